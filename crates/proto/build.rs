//! Generates the API's Rust types from `proto/` at build time, with no system
//! `protoc`: protox compiles the files to descriptors, prost-build writes the
//! messages, pbjson-build their proto3 JSON mapping, and this script the module
//! tree and the method table (`methods.rs`) the transports decode through.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use prost::Message as _;

fn proto_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            proto_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "proto") {
            out.push(path);
        }
    }
    Ok(())
}

/// `zitadel.user.v2` → `zitadel::user::v2`.
fn module_path(package: &str) -> String {
    package.split('.').collect::<Vec<_>>().join("::")
}

/// prost's Rust name of a message: `GetUserByIDRequest` → `GetUserByIdRequest`.
fn rust_type(full: &str) -> String {
    let full = full.trim_start_matches('.');
    let (package, name) = full.rsplit_once('.').unwrap_or(("", full));
    format!("crate::{}::{}", module_path(package), heck::ToUpperCamelCase::to_upper_camel_case(name))
}

/// The static that holds the [`shapes`] of message `full` (`.zitadel.user.v2.User`
/// → `ZITADEL_USER_V2_USER`).
fn shape_name(full: &str) -> String {
    full.trim_start_matches('.').replace('.', "_").to_uppercase()
}

/// Every message of `fds` as a `Shape` static (`shapes.rs`, included by
/// `src/shape.rs`): each field's number, wire kind and whether it repeats, a
/// message field pointing at its message's static. Statics may refer to each
/// other in cycles, as recursive filter messages do.
fn shapes(fds: &prost_types::FileDescriptorSet) -> String {
    use prost_types::field_descriptor_proto::{Label, Type};
    fn walk(prefix: &str, messages: &[prost_types::DescriptorProto], out: &mut String) {
        for m in messages {
            let full = format!("{prefix}.{}", m.name());
            let mut fields: Vec<_> = m.field.iter().collect();
            fields.sort_by_key(|f| f.number());
            let _ = write!(out, "pub static {}: Shape = Shape {{ fields: &[", shape_name(&full));
            for f in fields {
                let kind = match f.r#type() {
                    Type::Message => format!("Kind::Message(&{})", shape_name(f.type_name())),
                    Type::Fixed32 | Type::Sfixed32 | Type::Float => "Kind::Fixed32".to_owned(),
                    Type::Fixed64 | Type::Sfixed64 | Type::Double => "Kind::Fixed64".to_owned(),
                    Type::String | Type::Bytes | Type::Group => "Kind::Bytes".to_owned(),
                    _ => "Kind::Varint".to_owned(),
                };
                let repeated = f.label() == Label::Repeated;
                let _ = write!(out, "Field {{ number: {}, kind: {kind}, repeated: {repeated} }}, ", f.number());
            }
            let _ = writeln!(out, "] }};");
            walk(&full, &m.nested_type, out);
        }
    }
    let mut out = String::new();
    for file in &fds.file {
        walk(&format!(".{}", file.package()), &file.message_type, &mut out);
    }
    out
}

#[derive(Default)]
struct Tree {
    children: BTreeMap<String, Tree>,
    package: Option<String>,
}

impl Tree {
    fn insert(&mut self, package: &str) {
        let mut node = self;
        for part in package.split('.') {
            node = node.children.entry(part.to_owned()).or_default();
        }
        node.package = Some(package.to_owned());
    }

    fn write(&self, out: &mut String, depth: usize) {
        let pad = "    ".repeat(depth);
        if let Some(package) = &self.package {
            let _ = writeln!(out, "{pad}include!(concat!(env!(\"OUT_DIR\"), \"/{package}.rs\"));");
            let _ = writeln!(out, "{pad}include!(concat!(env!(\"OUT_DIR\"), \"/{package}.serde.rs\"));");
        }
        for (name, child) in &self.children {
            let _ = writeln!(
                out,
                "{pad}#[allow(missing_docs, clippy::all, clippy::pedantic, clippy::unwrap_used, clippy::expect_used)]"
            );
            let _ = writeln!(out, "{pad}pub mod {name} {{");
            child.write(out, depth + 1);
            let _ = writeln!(out, "{pad}}}");
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let root = root.canonicalize()?;
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    proto_files(&root, &mut files)?;
    files.sort();
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    let fds = protox::compile(&files, [&root])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let bytes = fds.encode_to_vec();
    std::fs::write(out.join("descriptors.bin"), &bytes)?;

    let mut config = prost_build::Config::new();
    // Timestamps and durations are Tessera's own types: pbjson-types writes
    // `+00:00` where proto3 JSON requires `Z` (src/timestamp.rs), and a
    // duration's error should say what a duration looks like (src/duration.rs).
    config
        .compile_well_known_types()
        .extern_path(".google.protobuf.Timestamp", "crate::Timestamp")
        .extern_path(".google.protobuf.Duration", "crate::Duration")
        .extern_path(".google.protobuf", "::pbjson_types");
    config.compile_fds(fds.clone())?;
    pbjson_build::Builder::new()
        .register_descriptors(&bytes)?
        .ignore_unknown_fields()
        .build(&[".zitadel", ".tessera"])?;

    let mut tree = Tree::default();
    let mut methods = String::new();
    let _ = writeln!(methods, "/// Every method of every service in `proto/`, in file order.");
    let _ = writeln!(methods, "pub static METHODS: &[Method] = &[");
    for file in &fds.file {
        let package = file.package();
        if package.starts_with("google.") {
            continue;
        }
        tree.insert(package);
        for service in &file.service {
            for m in &service.method {
                let _ = writeln!(
                    methods,
                    "    Method {{ service: \"{package}.{}\", name: \"{}\", codec: &Codec::<{}, {}>::NEW, \
                     request_shape: &shape::shapes::{} }},",
                    service.name(),
                    m.name(),
                    rust_type(m.input_type()),
                    rust_type(m.output_type()),
                    shape_name(m.input_type()),
                );
            }
        }
    }
    let _ = writeln!(methods, "];");
    std::fs::write(out.join("methods.rs"), methods)?;
    std::fs::write(out.join("shapes.rs"), shapes(&fds))?;
    let mut modules = String::new();
    tree.write(&mut modules, 0);
    std::fs::write(out.join("modules.rs"), modules)?;
    Ok(())
}
