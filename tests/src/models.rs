//! Models that exercise every shape kind and every serde attribute the derive understands.
//! The golden vectors and the recompute test walk all of them.
#![allow(dead_code, missing_docs)]

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::marker::PhantomData;

use cache_version_core::{CacheVersion, Shape, Version};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, CacheVersion)]
pub struct Address {
    pub city: String,
    pub zip: String,
}

#[derive(Serialize, Deserialize, CacheVersion)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub user_id: u64,
    #[serde(rename = "fullName")]
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub email: Option<String>,
    pub address: Option<Box<Address>>,
    pub tags: Vec<String>,
    #[serde(skip)]
    pub session: Vec<u8>,
    #[serde(alias = "nick", alias = "handle")]
    pub nickname: Cow<'static, str>,
    pub scores: HashMap<String, (u32, f64)>,
}

#[derive(Serialize, Deserialize, CacheVersion)]
pub struct Unit;

#[derive(Serialize, Deserialize, CacheVersion)]
pub struct Meters(pub f64);

#[derive(Serialize, Deserialize, CacheVersion)]
pub struct Rgb(pub u8, pub u8, pub u8, #[serde(skip)] pub u8);

#[derive(Serialize, Deserialize, CacheVersion)]
#[serde(transparent)]
pub struct UserId(pub u64);

#[derive(Serialize, Deserialize, CacheVersion)]
pub enum External {
    Unit,
    Newtype(Address),
    Tuple(u8, String),
    Struct {
        #[serde(rename = "x-coord")]
        x: i32,
        y: i32,
    },
    #[serde(skip)]
    Hidden,
    #[serde(rename = "last one")]
    Last,
}

#[derive(Serialize, Deserialize, CacheVersion)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Internal {
    Created {
        at: u64,
    },
    Deleted,
    Moved(Address),
    #[serde(other)]
    Unknown,
}

#[derive(Serialize, Deserialize, CacheVersion)]
#[serde(tag = "t", content = "c", rename_all_fields = "camelCase")]
pub enum Adjacent {
    A(u8),
    B { first_name: String },
}

#[derive(Serialize, Deserialize, CacheVersion)]
#[serde(untagged)]
pub enum Untagged {
    Int(i64),
    Text(String),
}

#[derive(Serialize, Deserialize, CacheVersion)]
pub enum PartlyUntagged {
    Known {
        id: u8,
    },
    #[serde(untagged)]
    Fallback(serde_json_value::Raw),
}

pub mod serde_json_value {
    use super::*;
    #[derive(Serialize, Deserialize, CacheVersion)]
    pub struct Raw(pub BTreeMap<String, String>);
}

#[derive(Serialize, Deserialize, CacheVersion)]
#[serde(tag = "kind")]
pub struct Tagged {
    pub id: u32,
}

#[derive(Default, Serialize, Deserialize, CacheVersion)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub verbose: bool,
    #[serde(rename(serialize = "lvl", deserialize = "level"))]
    pub level: u8,
    #[serde(skip_deserializing)]
    pub computed: u16,
}

#[derive(Serialize, Deserialize, CacheVersion)]
pub struct WithFlatten {
    pub id: u64,
    #[serde(flatten)]
    pub extra: BTreeMap<String, String>,
}

mod ts {
    pub fn serialize<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let s: String = serde::Deserialize::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

pub struct NoImpl;

#[derive(Serialize, Deserialize, CacheVersion)]
pub struct Custom {
    #[serde(with = "ts")]
    pub opaque_by_with: u64,
    #[serde(with = "ts")]
    #[cache_version(as = "String")]
    pub stated: u64,
    #[serde(skip)]
    #[allow(unused)]
    pub no_impl_skipped: Option<NoImplHolder>,
}
pub struct NoImplHolder(NoImpl);
impl Default for NoImplHolder {
    fn default() -> Self {
        NoImplHolder(NoImpl)
    }
}

#[derive(Serialize, Deserialize, CacheVersion)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
    #[serde(skip)]
    pub _marker: PhantomData<T>,
}

#[derive(Serialize, Deserialize, CacheVersion)]
pub struct Node {
    pub value: u32,
    pub children: Vec<Node>,
    pub next: Option<Box<Self>>,
}

#[derive(Serialize, Deserialize, CacheVersion)]
pub struct Tree<T> {
    pub value: T,
    pub children: Vec<Tree<T>>,
}

#[derive(Clone, Serialize, Deserialize, CacheVersion)]
pub struct MoneyRaw {
    pub cents: i64,
}

#[derive(Clone, Serialize, Deserialize, CacheVersion)]
#[serde(into = "MoneyRaw", from = "MoneyRaw")]
pub struct Money {
    pub dollars: f64,
}
impl From<MoneyRaw> for Money {
    fn from(r: MoneyRaw) -> Money {
        Money {
            dollars: r.cents as f64 / 100.0,
        }
    }
}
impl From<Money> for MoneyRaw {
    fn from(m: Money) -> MoneyRaw {
        MoneyRaw {
            cents: (m.dollars * 100.0) as i64,
        }
    }
}

#[derive(Clone, Serialize, Deserialize, CacheVersion)]
#[serde(try_from = "String")]
pub struct Email {
    pub local: String,
    pub domain: String,
}
impl TryFrom<String> for Email {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Email, Self::Error> {
        let (l, d) = s.split_once('@').ok_or("no @")?;
        Ok(Email {
            local: l.into(),
            domain: d.into(),
        })
    }
}

#[derive(Serialize, Deserialize, CacheVersion)]
#[cache_version(bump = 3, name = "PriceModel")]
pub struct Price {
    #[cache_version(bump = 1)]
    pub amount: u64,
    pub currency: [u8; 3],
}

#[derive(Serialize, Deserialize, CacheVersion)]
pub struct Everything<'a, T, const N: usize> {
    pub b: bool,
    pub ints: (i8, i16, i32, i64, i128, isize),
    pub uints: (u8, u16, u32, u64, u128, usize),
    pub floats: (f32, f64),
    pub c: char,
    pub s: &'a str,
    pub unit: (),
    pub arr: [T; 3],
    pub len_marker: PhantomData<[u8; N]>,
    pub nested: Option<Vec<HashMap<String, Option<T>>>>,
    pub result: Result<u8, String>,
    pub duration: std::time::Duration,
    pub ip: std::net::IpAddr,
}

/// Every model above (instantiated where generic), for tests that walk them all.
pub fn all() -> Vec<(&'static str, &'static Shape, Version)> {
    macro_rules! list {
        ($($t:ty),* $(,)?) => {
            vec![$((stringify!($t), <$t as CacheVersion>::SHAPE, <$t as CacheVersion>::VERSION)),*]
        };
    }
    list![
        Address,
        User,
        Unit,
        Meters,
        Rgb,
        UserId,
        External,
        Internal,
        Adjacent,
        Untagged,
        PartlyUntagged,
        Tagged,
        Settings,
        WithFlatten,
        Custom,
        Page<User>,
        Page<u8>,
        Node,
        Tree<String>,
        Money,
        Email,
        Price,
        Everything<'static, u16, 4>,
        Vec<Option<(u8, u8, String)>>,
        [Address; 2],
        HashMap<UserId, Page<Address>>,
        std::time::SystemTime,
        std::ops::Bound<u8>,
        std::net::SocketAddr,
    ]
}
