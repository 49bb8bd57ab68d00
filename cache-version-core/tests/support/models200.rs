// 200 generated models shaped like a real crate's (8-11 fields each, nested models, options,
// vectors, maps, an enum per model), as in `scripts/compile_bench.py`: model `i` holds
// `Option<Box<M{i-1}>>`, `Vec<M{i-3}>` and `BTreeMap<u32, M{i-7}>`, so each reaches every model
// below it. `models200!(T)` defines them with `M0.id: T`, so two sets that differ only at the
// bottom can be diffed. The `model!` lines were generated (one per model, fields chosen by
// index as above); only CacheVersion is derived, to keep the compile cost of the test modest.
//
// Used by `tests/lockfile.rs` and `benches/lockfile.rs` through `#[path]`.

macro_rules! model {
    ($id:ty; $m:ident, $s:ident $(, parent: $p:ident)? $(, related: $r:ident)? $(, index: $x:ident)?) => {
        #[derive(cache_version_core::CacheVersion)]
        pub struct $m {
            pub id: $id,
            pub name: String,
            pub email: Option<String>,
            pub tags: Vec<String>,
            pub created_at: u64,
            pub score: f64,
            pub attrs: std::collections::HashMap<String, i64>,
            pub status: $s,
            $(pub parent: Option<Box<$p>>,)?
            $(pub related: Vec<$r>,)?
            $(pub index: std::collections::BTreeMap<u32, $x>,)?
        }

        #[derive(cache_version_core::CacheVersion)]
        pub enum $s {
            Active,
            Suspended { reason: String, until: Option<u64> },
            Deleted,
        }
    };
}

macro_rules! models200 {
    ($bottom:ty) => {
        model!($bottom; M0, S0);
        model!(u64; M1, S1, parent: M0);
        model!(u64; M2, S2, parent: M1);
        model!(u64; M3, S3, parent: M2, related: M0);
        model!(u64; M4, S4, parent: M3, related: M1);
        model!(u64; M5, S5, parent: M4, related: M2);
        model!(u64; M6, S6, parent: M5, related: M3);
        model!(u64; M7, S7, parent: M6, related: M4, index: M0);
        model!(u64; M8, S8, parent: M7, related: M5, index: M1);
        model!(u64; M9, S9, parent: M8, related: M6, index: M2);
        model!(u64; M10, S10, parent: M9, related: M7, index: M3);
        model!(u64; M11, S11, parent: M10, related: M8, index: M4);
        model!(u64; M12, S12, parent: M11, related: M9, index: M5);
        model!(u64; M13, S13, parent: M12, related: M10, index: M6);
        model!(u64; M14, S14, parent: M13, related: M11, index: M7);
        model!(u64; M15, S15, parent: M14, related: M12, index: M8);
        model!(u64; M16, S16, parent: M15, related: M13, index: M9);
        model!(u64; M17, S17, parent: M16, related: M14, index: M10);
        model!(u64; M18, S18, parent: M17, related: M15, index: M11);
        model!(u64; M19, S19, parent: M18, related: M16, index: M12);
        model!(u64; M20, S20, parent: M19, related: M17, index: M13);
        model!(u64; M21, S21, parent: M20, related: M18, index: M14);
        model!(u64; M22, S22, parent: M21, related: M19, index: M15);
        model!(u64; M23, S23, parent: M22, related: M20, index: M16);
        model!(u64; M24, S24, parent: M23, related: M21, index: M17);
        model!(u64; M25, S25, parent: M24, related: M22, index: M18);
        model!(u64; M26, S26, parent: M25, related: M23, index: M19);
        model!(u64; M27, S27, parent: M26, related: M24, index: M20);
        model!(u64; M28, S28, parent: M27, related: M25, index: M21);
        model!(u64; M29, S29, parent: M28, related: M26, index: M22);
        model!(u64; M30, S30, parent: M29, related: M27, index: M23);
        model!(u64; M31, S31, parent: M30, related: M28, index: M24);
        model!(u64; M32, S32, parent: M31, related: M29, index: M25);
        model!(u64; M33, S33, parent: M32, related: M30, index: M26);
        model!(u64; M34, S34, parent: M33, related: M31, index: M27);
        model!(u64; M35, S35, parent: M34, related: M32, index: M28);
        model!(u64; M36, S36, parent: M35, related: M33, index: M29);
        model!(u64; M37, S37, parent: M36, related: M34, index: M30);
        model!(u64; M38, S38, parent: M37, related: M35, index: M31);
        model!(u64; M39, S39, parent: M38, related: M36, index: M32);
        model!(u64; M40, S40, parent: M39, related: M37, index: M33);
        model!(u64; M41, S41, parent: M40, related: M38, index: M34);
        model!(u64; M42, S42, parent: M41, related: M39, index: M35);
        model!(u64; M43, S43, parent: M42, related: M40, index: M36);
        model!(u64; M44, S44, parent: M43, related: M41, index: M37);
        model!(u64; M45, S45, parent: M44, related: M42, index: M38);
        model!(u64; M46, S46, parent: M45, related: M43, index: M39);
        model!(u64; M47, S47, parent: M46, related: M44, index: M40);
        model!(u64; M48, S48, parent: M47, related: M45, index: M41);
        model!(u64; M49, S49, parent: M48, related: M46, index: M42);
        model!(u64; M50, S50, parent: M49, related: M47, index: M43);
        model!(u64; M51, S51, parent: M50, related: M48, index: M44);
        model!(u64; M52, S52, parent: M51, related: M49, index: M45);
        model!(u64; M53, S53, parent: M52, related: M50, index: M46);
        model!(u64; M54, S54, parent: M53, related: M51, index: M47);
        model!(u64; M55, S55, parent: M54, related: M52, index: M48);
        model!(u64; M56, S56, parent: M55, related: M53, index: M49);
        model!(u64; M57, S57, parent: M56, related: M54, index: M50);
        model!(u64; M58, S58, parent: M57, related: M55, index: M51);
        model!(u64; M59, S59, parent: M58, related: M56, index: M52);
        model!(u64; M60, S60, parent: M59, related: M57, index: M53);
        model!(u64; M61, S61, parent: M60, related: M58, index: M54);
        model!(u64; M62, S62, parent: M61, related: M59, index: M55);
        model!(u64; M63, S63, parent: M62, related: M60, index: M56);
        model!(u64; M64, S64, parent: M63, related: M61, index: M57);
        model!(u64; M65, S65, parent: M64, related: M62, index: M58);
        model!(u64; M66, S66, parent: M65, related: M63, index: M59);
        model!(u64; M67, S67, parent: M66, related: M64, index: M60);
        model!(u64; M68, S68, parent: M67, related: M65, index: M61);
        model!(u64; M69, S69, parent: M68, related: M66, index: M62);
        model!(u64; M70, S70, parent: M69, related: M67, index: M63);
        model!(u64; M71, S71, parent: M70, related: M68, index: M64);
        model!(u64; M72, S72, parent: M71, related: M69, index: M65);
        model!(u64; M73, S73, parent: M72, related: M70, index: M66);
        model!(u64; M74, S74, parent: M73, related: M71, index: M67);
        model!(u64; M75, S75, parent: M74, related: M72, index: M68);
        model!(u64; M76, S76, parent: M75, related: M73, index: M69);
        model!(u64; M77, S77, parent: M76, related: M74, index: M70);
        model!(u64; M78, S78, parent: M77, related: M75, index: M71);
        model!(u64; M79, S79, parent: M78, related: M76, index: M72);
        model!(u64; M80, S80, parent: M79, related: M77, index: M73);
        model!(u64; M81, S81, parent: M80, related: M78, index: M74);
        model!(u64; M82, S82, parent: M81, related: M79, index: M75);
        model!(u64; M83, S83, parent: M82, related: M80, index: M76);
        model!(u64; M84, S84, parent: M83, related: M81, index: M77);
        model!(u64; M85, S85, parent: M84, related: M82, index: M78);
        model!(u64; M86, S86, parent: M85, related: M83, index: M79);
        model!(u64; M87, S87, parent: M86, related: M84, index: M80);
        model!(u64; M88, S88, parent: M87, related: M85, index: M81);
        model!(u64; M89, S89, parent: M88, related: M86, index: M82);
        model!(u64; M90, S90, parent: M89, related: M87, index: M83);
        model!(u64; M91, S91, parent: M90, related: M88, index: M84);
        model!(u64; M92, S92, parent: M91, related: M89, index: M85);
        model!(u64; M93, S93, parent: M92, related: M90, index: M86);
        model!(u64; M94, S94, parent: M93, related: M91, index: M87);
        model!(u64; M95, S95, parent: M94, related: M92, index: M88);
        model!(u64; M96, S96, parent: M95, related: M93, index: M89);
        model!(u64; M97, S97, parent: M96, related: M94, index: M90);
        model!(u64; M98, S98, parent: M97, related: M95, index: M91);
        model!(u64; M99, S99, parent: M98, related: M96, index: M92);
        model!(u64; M100, S100, parent: M99, related: M97, index: M93);
        model!(u64; M101, S101, parent: M100, related: M98, index: M94);
        model!(u64; M102, S102, parent: M101, related: M99, index: M95);
        model!(u64; M103, S103, parent: M102, related: M100, index: M96);
        model!(u64; M104, S104, parent: M103, related: M101, index: M97);
        model!(u64; M105, S105, parent: M104, related: M102, index: M98);
        model!(u64; M106, S106, parent: M105, related: M103, index: M99);
        model!(u64; M107, S107, parent: M106, related: M104, index: M100);
        model!(u64; M108, S108, parent: M107, related: M105, index: M101);
        model!(u64; M109, S109, parent: M108, related: M106, index: M102);
        model!(u64; M110, S110, parent: M109, related: M107, index: M103);
        model!(u64; M111, S111, parent: M110, related: M108, index: M104);
        model!(u64; M112, S112, parent: M111, related: M109, index: M105);
        model!(u64; M113, S113, parent: M112, related: M110, index: M106);
        model!(u64; M114, S114, parent: M113, related: M111, index: M107);
        model!(u64; M115, S115, parent: M114, related: M112, index: M108);
        model!(u64; M116, S116, parent: M115, related: M113, index: M109);
        model!(u64; M117, S117, parent: M116, related: M114, index: M110);
        model!(u64; M118, S118, parent: M117, related: M115, index: M111);
        model!(u64; M119, S119, parent: M118, related: M116, index: M112);
        model!(u64; M120, S120, parent: M119, related: M117, index: M113);
        model!(u64; M121, S121, parent: M120, related: M118, index: M114);
        model!(u64; M122, S122, parent: M121, related: M119, index: M115);
        model!(u64; M123, S123, parent: M122, related: M120, index: M116);
        model!(u64; M124, S124, parent: M123, related: M121, index: M117);
        model!(u64; M125, S125, parent: M124, related: M122, index: M118);
        model!(u64; M126, S126, parent: M125, related: M123, index: M119);
        model!(u64; M127, S127, parent: M126, related: M124, index: M120);
        model!(u64; M128, S128, parent: M127, related: M125, index: M121);
        model!(u64; M129, S129, parent: M128, related: M126, index: M122);
        model!(u64; M130, S130, parent: M129, related: M127, index: M123);
        model!(u64; M131, S131, parent: M130, related: M128, index: M124);
        model!(u64; M132, S132, parent: M131, related: M129, index: M125);
        model!(u64; M133, S133, parent: M132, related: M130, index: M126);
        model!(u64; M134, S134, parent: M133, related: M131, index: M127);
        model!(u64; M135, S135, parent: M134, related: M132, index: M128);
        model!(u64; M136, S136, parent: M135, related: M133, index: M129);
        model!(u64; M137, S137, parent: M136, related: M134, index: M130);
        model!(u64; M138, S138, parent: M137, related: M135, index: M131);
        model!(u64; M139, S139, parent: M138, related: M136, index: M132);
        model!(u64; M140, S140, parent: M139, related: M137, index: M133);
        model!(u64; M141, S141, parent: M140, related: M138, index: M134);
        model!(u64; M142, S142, parent: M141, related: M139, index: M135);
        model!(u64; M143, S143, parent: M142, related: M140, index: M136);
        model!(u64; M144, S144, parent: M143, related: M141, index: M137);
        model!(u64; M145, S145, parent: M144, related: M142, index: M138);
        model!(u64; M146, S146, parent: M145, related: M143, index: M139);
        model!(u64; M147, S147, parent: M146, related: M144, index: M140);
        model!(u64; M148, S148, parent: M147, related: M145, index: M141);
        model!(u64; M149, S149, parent: M148, related: M146, index: M142);
        model!(u64; M150, S150, parent: M149, related: M147, index: M143);
        model!(u64; M151, S151, parent: M150, related: M148, index: M144);
        model!(u64; M152, S152, parent: M151, related: M149, index: M145);
        model!(u64; M153, S153, parent: M152, related: M150, index: M146);
        model!(u64; M154, S154, parent: M153, related: M151, index: M147);
        model!(u64; M155, S155, parent: M154, related: M152, index: M148);
        model!(u64; M156, S156, parent: M155, related: M153, index: M149);
        model!(u64; M157, S157, parent: M156, related: M154, index: M150);
        model!(u64; M158, S158, parent: M157, related: M155, index: M151);
        model!(u64; M159, S159, parent: M158, related: M156, index: M152);
        model!(u64; M160, S160, parent: M159, related: M157, index: M153);
        model!(u64; M161, S161, parent: M160, related: M158, index: M154);
        model!(u64; M162, S162, parent: M161, related: M159, index: M155);
        model!(u64; M163, S163, parent: M162, related: M160, index: M156);
        model!(u64; M164, S164, parent: M163, related: M161, index: M157);
        model!(u64; M165, S165, parent: M164, related: M162, index: M158);
        model!(u64; M166, S166, parent: M165, related: M163, index: M159);
        model!(u64; M167, S167, parent: M166, related: M164, index: M160);
        model!(u64; M168, S168, parent: M167, related: M165, index: M161);
        model!(u64; M169, S169, parent: M168, related: M166, index: M162);
        model!(u64; M170, S170, parent: M169, related: M167, index: M163);
        model!(u64; M171, S171, parent: M170, related: M168, index: M164);
        model!(u64; M172, S172, parent: M171, related: M169, index: M165);
        model!(u64; M173, S173, parent: M172, related: M170, index: M166);
        model!(u64; M174, S174, parent: M173, related: M171, index: M167);
        model!(u64; M175, S175, parent: M174, related: M172, index: M168);
        model!(u64; M176, S176, parent: M175, related: M173, index: M169);
        model!(u64; M177, S177, parent: M176, related: M174, index: M170);
        model!(u64; M178, S178, parent: M177, related: M175, index: M171);
        model!(u64; M179, S179, parent: M178, related: M176, index: M172);
        model!(u64; M180, S180, parent: M179, related: M177, index: M173);
        model!(u64; M181, S181, parent: M180, related: M178, index: M174);
        model!(u64; M182, S182, parent: M181, related: M179, index: M175);
        model!(u64; M183, S183, parent: M182, related: M180, index: M176);
        model!(u64; M184, S184, parent: M183, related: M181, index: M177);
        model!(u64; M185, S185, parent: M184, related: M182, index: M178);
        model!(u64; M186, S186, parent: M185, related: M183, index: M179);
        model!(u64; M187, S187, parent: M186, related: M184, index: M180);
        model!(u64; M188, S188, parent: M187, related: M185, index: M181);
        model!(u64; M189, S189, parent: M188, related: M186, index: M182);
        model!(u64; M190, S190, parent: M189, related: M187, index: M183);
        model!(u64; M191, S191, parent: M190, related: M188, index: M184);
        model!(u64; M192, S192, parent: M191, related: M189, index: M185);
        model!(u64; M193, S193, parent: M192, related: M190, index: M186);
        model!(u64; M194, S194, parent: M193, related: M191, index: M187);
        model!(u64; M195, S195, parent: M194, related: M192, index: M188);
        model!(u64; M196, S196, parent: M195, related: M193, index: M189);
        model!(u64; M197, S197, parent: M196, related: M194, index: M190);
        model!(u64; M198, S198, parent: M197, related: M195, index: M191);
        model!(u64; M199, S199, parent: M198, related: M196, index: M192);

        /// The 200 models, labelled `M0` … `M199`.
        pub fn models() -> Vec<cache_version_core::lockfile::Model> {
            vec![
                cache_version_core::lockfile::Model::new::<M0>("M0"),
                cache_version_core::lockfile::Model::new::<M1>("M1"),
                cache_version_core::lockfile::Model::new::<M2>("M2"),
                cache_version_core::lockfile::Model::new::<M3>("M3"),
                cache_version_core::lockfile::Model::new::<M4>("M4"),
                cache_version_core::lockfile::Model::new::<M5>("M5"),
                cache_version_core::lockfile::Model::new::<M6>("M6"),
                cache_version_core::lockfile::Model::new::<M7>("M7"),
                cache_version_core::lockfile::Model::new::<M8>("M8"),
                cache_version_core::lockfile::Model::new::<M9>("M9"),
                cache_version_core::lockfile::Model::new::<M10>("M10"),
                cache_version_core::lockfile::Model::new::<M11>("M11"),
                cache_version_core::lockfile::Model::new::<M12>("M12"),
                cache_version_core::lockfile::Model::new::<M13>("M13"),
                cache_version_core::lockfile::Model::new::<M14>("M14"),
                cache_version_core::lockfile::Model::new::<M15>("M15"),
                cache_version_core::lockfile::Model::new::<M16>("M16"),
                cache_version_core::lockfile::Model::new::<M17>("M17"),
                cache_version_core::lockfile::Model::new::<M18>("M18"),
                cache_version_core::lockfile::Model::new::<M19>("M19"),
                cache_version_core::lockfile::Model::new::<M20>("M20"),
                cache_version_core::lockfile::Model::new::<M21>("M21"),
                cache_version_core::lockfile::Model::new::<M22>("M22"),
                cache_version_core::lockfile::Model::new::<M23>("M23"),
                cache_version_core::lockfile::Model::new::<M24>("M24"),
                cache_version_core::lockfile::Model::new::<M25>("M25"),
                cache_version_core::lockfile::Model::new::<M26>("M26"),
                cache_version_core::lockfile::Model::new::<M27>("M27"),
                cache_version_core::lockfile::Model::new::<M28>("M28"),
                cache_version_core::lockfile::Model::new::<M29>("M29"),
                cache_version_core::lockfile::Model::new::<M30>("M30"),
                cache_version_core::lockfile::Model::new::<M31>("M31"),
                cache_version_core::lockfile::Model::new::<M32>("M32"),
                cache_version_core::lockfile::Model::new::<M33>("M33"),
                cache_version_core::lockfile::Model::new::<M34>("M34"),
                cache_version_core::lockfile::Model::new::<M35>("M35"),
                cache_version_core::lockfile::Model::new::<M36>("M36"),
                cache_version_core::lockfile::Model::new::<M37>("M37"),
                cache_version_core::lockfile::Model::new::<M38>("M38"),
                cache_version_core::lockfile::Model::new::<M39>("M39"),
                cache_version_core::lockfile::Model::new::<M40>("M40"),
                cache_version_core::lockfile::Model::new::<M41>("M41"),
                cache_version_core::lockfile::Model::new::<M42>("M42"),
                cache_version_core::lockfile::Model::new::<M43>("M43"),
                cache_version_core::lockfile::Model::new::<M44>("M44"),
                cache_version_core::lockfile::Model::new::<M45>("M45"),
                cache_version_core::lockfile::Model::new::<M46>("M46"),
                cache_version_core::lockfile::Model::new::<M47>("M47"),
                cache_version_core::lockfile::Model::new::<M48>("M48"),
                cache_version_core::lockfile::Model::new::<M49>("M49"),
                cache_version_core::lockfile::Model::new::<M50>("M50"),
                cache_version_core::lockfile::Model::new::<M51>("M51"),
                cache_version_core::lockfile::Model::new::<M52>("M52"),
                cache_version_core::lockfile::Model::new::<M53>("M53"),
                cache_version_core::lockfile::Model::new::<M54>("M54"),
                cache_version_core::lockfile::Model::new::<M55>("M55"),
                cache_version_core::lockfile::Model::new::<M56>("M56"),
                cache_version_core::lockfile::Model::new::<M57>("M57"),
                cache_version_core::lockfile::Model::new::<M58>("M58"),
                cache_version_core::lockfile::Model::new::<M59>("M59"),
                cache_version_core::lockfile::Model::new::<M60>("M60"),
                cache_version_core::lockfile::Model::new::<M61>("M61"),
                cache_version_core::lockfile::Model::new::<M62>("M62"),
                cache_version_core::lockfile::Model::new::<M63>("M63"),
                cache_version_core::lockfile::Model::new::<M64>("M64"),
                cache_version_core::lockfile::Model::new::<M65>("M65"),
                cache_version_core::lockfile::Model::new::<M66>("M66"),
                cache_version_core::lockfile::Model::new::<M67>("M67"),
                cache_version_core::lockfile::Model::new::<M68>("M68"),
                cache_version_core::lockfile::Model::new::<M69>("M69"),
                cache_version_core::lockfile::Model::new::<M70>("M70"),
                cache_version_core::lockfile::Model::new::<M71>("M71"),
                cache_version_core::lockfile::Model::new::<M72>("M72"),
                cache_version_core::lockfile::Model::new::<M73>("M73"),
                cache_version_core::lockfile::Model::new::<M74>("M74"),
                cache_version_core::lockfile::Model::new::<M75>("M75"),
                cache_version_core::lockfile::Model::new::<M76>("M76"),
                cache_version_core::lockfile::Model::new::<M77>("M77"),
                cache_version_core::lockfile::Model::new::<M78>("M78"),
                cache_version_core::lockfile::Model::new::<M79>("M79"),
                cache_version_core::lockfile::Model::new::<M80>("M80"),
                cache_version_core::lockfile::Model::new::<M81>("M81"),
                cache_version_core::lockfile::Model::new::<M82>("M82"),
                cache_version_core::lockfile::Model::new::<M83>("M83"),
                cache_version_core::lockfile::Model::new::<M84>("M84"),
                cache_version_core::lockfile::Model::new::<M85>("M85"),
                cache_version_core::lockfile::Model::new::<M86>("M86"),
                cache_version_core::lockfile::Model::new::<M87>("M87"),
                cache_version_core::lockfile::Model::new::<M88>("M88"),
                cache_version_core::lockfile::Model::new::<M89>("M89"),
                cache_version_core::lockfile::Model::new::<M90>("M90"),
                cache_version_core::lockfile::Model::new::<M91>("M91"),
                cache_version_core::lockfile::Model::new::<M92>("M92"),
                cache_version_core::lockfile::Model::new::<M93>("M93"),
                cache_version_core::lockfile::Model::new::<M94>("M94"),
                cache_version_core::lockfile::Model::new::<M95>("M95"),
                cache_version_core::lockfile::Model::new::<M96>("M96"),
                cache_version_core::lockfile::Model::new::<M97>("M97"),
                cache_version_core::lockfile::Model::new::<M98>("M98"),
                cache_version_core::lockfile::Model::new::<M99>("M99"),
                cache_version_core::lockfile::Model::new::<M100>("M100"),
                cache_version_core::lockfile::Model::new::<M101>("M101"),
                cache_version_core::lockfile::Model::new::<M102>("M102"),
                cache_version_core::lockfile::Model::new::<M103>("M103"),
                cache_version_core::lockfile::Model::new::<M104>("M104"),
                cache_version_core::lockfile::Model::new::<M105>("M105"),
                cache_version_core::lockfile::Model::new::<M106>("M106"),
                cache_version_core::lockfile::Model::new::<M107>("M107"),
                cache_version_core::lockfile::Model::new::<M108>("M108"),
                cache_version_core::lockfile::Model::new::<M109>("M109"),
                cache_version_core::lockfile::Model::new::<M110>("M110"),
                cache_version_core::lockfile::Model::new::<M111>("M111"),
                cache_version_core::lockfile::Model::new::<M112>("M112"),
                cache_version_core::lockfile::Model::new::<M113>("M113"),
                cache_version_core::lockfile::Model::new::<M114>("M114"),
                cache_version_core::lockfile::Model::new::<M115>("M115"),
                cache_version_core::lockfile::Model::new::<M116>("M116"),
                cache_version_core::lockfile::Model::new::<M117>("M117"),
                cache_version_core::lockfile::Model::new::<M118>("M118"),
                cache_version_core::lockfile::Model::new::<M119>("M119"),
                cache_version_core::lockfile::Model::new::<M120>("M120"),
                cache_version_core::lockfile::Model::new::<M121>("M121"),
                cache_version_core::lockfile::Model::new::<M122>("M122"),
                cache_version_core::lockfile::Model::new::<M123>("M123"),
                cache_version_core::lockfile::Model::new::<M124>("M124"),
                cache_version_core::lockfile::Model::new::<M125>("M125"),
                cache_version_core::lockfile::Model::new::<M126>("M126"),
                cache_version_core::lockfile::Model::new::<M127>("M127"),
                cache_version_core::lockfile::Model::new::<M128>("M128"),
                cache_version_core::lockfile::Model::new::<M129>("M129"),
                cache_version_core::lockfile::Model::new::<M130>("M130"),
                cache_version_core::lockfile::Model::new::<M131>("M131"),
                cache_version_core::lockfile::Model::new::<M132>("M132"),
                cache_version_core::lockfile::Model::new::<M133>("M133"),
                cache_version_core::lockfile::Model::new::<M134>("M134"),
                cache_version_core::lockfile::Model::new::<M135>("M135"),
                cache_version_core::lockfile::Model::new::<M136>("M136"),
                cache_version_core::lockfile::Model::new::<M137>("M137"),
                cache_version_core::lockfile::Model::new::<M138>("M138"),
                cache_version_core::lockfile::Model::new::<M139>("M139"),
                cache_version_core::lockfile::Model::new::<M140>("M140"),
                cache_version_core::lockfile::Model::new::<M141>("M141"),
                cache_version_core::lockfile::Model::new::<M142>("M142"),
                cache_version_core::lockfile::Model::new::<M143>("M143"),
                cache_version_core::lockfile::Model::new::<M144>("M144"),
                cache_version_core::lockfile::Model::new::<M145>("M145"),
                cache_version_core::lockfile::Model::new::<M146>("M146"),
                cache_version_core::lockfile::Model::new::<M147>("M147"),
                cache_version_core::lockfile::Model::new::<M148>("M148"),
                cache_version_core::lockfile::Model::new::<M149>("M149"),
                cache_version_core::lockfile::Model::new::<M150>("M150"),
                cache_version_core::lockfile::Model::new::<M151>("M151"),
                cache_version_core::lockfile::Model::new::<M152>("M152"),
                cache_version_core::lockfile::Model::new::<M153>("M153"),
                cache_version_core::lockfile::Model::new::<M154>("M154"),
                cache_version_core::lockfile::Model::new::<M155>("M155"),
                cache_version_core::lockfile::Model::new::<M156>("M156"),
                cache_version_core::lockfile::Model::new::<M157>("M157"),
                cache_version_core::lockfile::Model::new::<M158>("M158"),
                cache_version_core::lockfile::Model::new::<M159>("M159"),
                cache_version_core::lockfile::Model::new::<M160>("M160"),
                cache_version_core::lockfile::Model::new::<M161>("M161"),
                cache_version_core::lockfile::Model::new::<M162>("M162"),
                cache_version_core::lockfile::Model::new::<M163>("M163"),
                cache_version_core::lockfile::Model::new::<M164>("M164"),
                cache_version_core::lockfile::Model::new::<M165>("M165"),
                cache_version_core::lockfile::Model::new::<M166>("M166"),
                cache_version_core::lockfile::Model::new::<M167>("M167"),
                cache_version_core::lockfile::Model::new::<M168>("M168"),
                cache_version_core::lockfile::Model::new::<M169>("M169"),
                cache_version_core::lockfile::Model::new::<M170>("M170"),
                cache_version_core::lockfile::Model::new::<M171>("M171"),
                cache_version_core::lockfile::Model::new::<M172>("M172"),
                cache_version_core::lockfile::Model::new::<M173>("M173"),
                cache_version_core::lockfile::Model::new::<M174>("M174"),
                cache_version_core::lockfile::Model::new::<M175>("M175"),
                cache_version_core::lockfile::Model::new::<M176>("M176"),
                cache_version_core::lockfile::Model::new::<M177>("M177"),
                cache_version_core::lockfile::Model::new::<M178>("M178"),
                cache_version_core::lockfile::Model::new::<M179>("M179"),
                cache_version_core::lockfile::Model::new::<M180>("M180"),
                cache_version_core::lockfile::Model::new::<M181>("M181"),
                cache_version_core::lockfile::Model::new::<M182>("M182"),
                cache_version_core::lockfile::Model::new::<M183>("M183"),
                cache_version_core::lockfile::Model::new::<M184>("M184"),
                cache_version_core::lockfile::Model::new::<M185>("M185"),
                cache_version_core::lockfile::Model::new::<M186>("M186"),
                cache_version_core::lockfile::Model::new::<M187>("M187"),
                cache_version_core::lockfile::Model::new::<M188>("M188"),
                cache_version_core::lockfile::Model::new::<M189>("M189"),
                cache_version_core::lockfile::Model::new::<M190>("M190"),
                cache_version_core::lockfile::Model::new::<M191>("M191"),
                cache_version_core::lockfile::Model::new::<M192>("M192"),
                cache_version_core::lockfile::Model::new::<M193>("M193"),
                cache_version_core::lockfile::Model::new::<M194>("M194"),
                cache_version_core::lockfile::Model::new::<M195>("M195"),
                cache_version_core::lockfile::Model::new::<M196>("M196"),
                cache_version_core::lockfile::Model::new::<M197>("M197"),
                cache_version_core::lockfile::Model::new::<M198>("M198"),
                cache_version_core::lockfile::Model::new::<M199>("M199"),
            ]
        }
    };
}
