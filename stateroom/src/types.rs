//! TypeScript definitions of a service's messages, for browser clients.
//!
//! Mark each message type (and every type inside one) with
//! [`#[stateroom::message]`](crate::message), name the outbound type in the
//! service attribute, and every generated `main` takes `--emit-ts PATH`:
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use stateroom::{ClientId, MessageRecipient, ServiceTypes, StateroomContext};
//!
//! #[stateroom::message]
//! #[derive(Deserialize)]
//! #[serde(tag = "type", rename_all = "snake_case")]
//! enum ChatIn {
//!     Say { text: String },
//! }
//!
//! #[stateroom::message]
//! #[derive(Serialize)]
//! #[serde(tag = "type", rename_all = "snake_case")]
//! enum ChatOut<'a> {
//!     Said { from: ClientId, text: &'a str },
//! }
//!
//! #[derive(Default)]
//! struct Chat;
//!
//! #[stateroom::service(no_main, outbound = ChatOut)]
//! impl Chat {
//!     fn message(&mut self, client: ClientId, msg: ChatIn, ctx: &impl StateroomContext) {
//!         let ChatIn::Say { text } = msg;
//!         ctx.send(MessageRecipient::Broadcast, &ChatOut::Said { from: client, text: &text });
//!     }
//! }
//!
//! let ts = Chat::typescript().unwrap();
//! assert!(ts.contains(r#"export type ChatIn = { "type": "say", text: string, };"#));
//! assert!(ts.contains(r#"{ "type": "said", from: number, text: string, }"#));
//! assert!(ts.contains(r#"export const Chat"#));
//! ```

use stateroom_core::ts_rs::{Config, TS, TypeVisitor};
use std::any::TypeId;
use std::collections::HashSet;
use std::fmt::Write as _;

/// A service whose message types can be written out as TypeScript.
/// `#[stateroom::service]` implements it; `--emit-ts PATH` on a generated
/// `main` calls it, and so can a test or a build step of your own.
pub trait ServiceTypes {
    /// The TypeScript module: one `export type` per message type (and per
    /// type inside one), then a constant named after the service that
    /// `connect` in `@stateroom/client` takes to type a room.
    ///
    /// # Errors
    /// When a message type is not marked `#[stateroom::message]`.
    fn typescript() -> Result<String, TypesError>;
}

/// Why a service's TypeScript could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{rust}` has no TypeScript definition: add `#[stateroom::message]` above its `#[derive(...)]` (and above those of the types inside it)"
)]
pub struct TypesError {
    /// The Rust type, as written in the service.
    pub rust: String,
}

/// One message type's definitions: its own and those of the types inside it,
/// in dependency order.
#[doc(hidden)]
#[derive(Debug)]
pub struct Declared {
    name: String,
    tag: Option<&'static str>,
    decls: Vec<(TypeId, String)>,
}

/// A message type: what `#[stateroom::message]` implements besides `TS`.
#[doc(hidden)]
pub trait Message: TS {
    /// The field serde tags the enum's variants with (`#[serde(tag = "…")]`).
    const TAG: Option<&'static str>;
}

/// Probes a type for `Message` (autoref specialisation).
#[doc(hidden)]
pub struct Probe<T: ?Sized>(std::marker::PhantomData<T>);

impl<T: ?Sized> Probe<T> {
    #[allow(clippy::new_without_default)]
    #[doc(hidden)]
    pub fn new() -> Self {
        Probe(std::marker::PhantomData)
    }
}

/// The probe's answer for a message type.
#[doc(hidden)]
pub trait ViaMessage {
    /// The type's definitions.
    fn declared(self) -> Option<Declared>;
}

impl<T: Message + 'static> ViaMessage for &&Probe<T> {
    fn declared(self) -> Option<Declared> {
        Some(declare::<T>())
    }
}

/// The probe's answer for any other type.
#[doc(hidden)]
pub trait ViaAnything {
    /// Nothing.
    fn declared(self) -> Option<Declared>;
}

impl<T: ?Sized> ViaAnything for &Probe<T> {
    fn declared(self) -> Option<Declared> {
        None
    }
}

/// One direction of a service's traffic, as the macro saw it.
#[doc(hidden)]
#[derive(Debug)]
pub enum Side {
    /// A Rust type, declared or not.
    Typed(Result<Declared, TypesError>),
    /// Raw text (`&str`).
    Text,
    /// Not accepted at all (no `message` hook).
    Nothing,
    /// Not named (no `outbound = …`).
    Unknown,
}

impl Side {
    /// A probed type: its definitions, or an error naming it.
    #[doc(hidden)]
    pub fn probed(declared: Option<Declared>, rust: &str) -> Side {
        Side::Typed(declared.ok_or_else(|| TypesError {
            rust: rust.to_owned(),
        }))
    }
}

fn config() -> Config {
    // serde_json writes 64-bit integers as plain numbers, which `JSON.parse`
    // reads as `number`.
    Config::new().with_large_int("number")
}

fn declare<T: Message + 'static>() -> Declared {
    struct Collect {
        cfg: Config,
        seen: HashSet<TypeId>,
        decls: Vec<(TypeId, String)>,
    }
    impl Collect {
        fn add<U: TS + 'static + ?Sized>(&mut self) {
            if U::output_path().is_none() || !self.seen.insert(TypeId::of::<U::WithoutGenerics>()) {
                return;
            }
            // Dependencies first, so the file reads top-down.
            U::visit_dependencies(self);
            let mut decl = String::new();
            if let Some(docs) = U::docs() {
                decl.push_str(&docs);
            }
            decl.push_str("export ");
            decl.push_str(&U::decl(&self.cfg));
            self.decls.push((TypeId::of::<U::WithoutGenerics>(), decl));
        }
    }
    impl TypeVisitor for Collect {
        fn visit<U: TS + 'static + ?Sized>(&mut self) {
            self.add::<U>();
        }
    }
    let mut collect = Collect {
        cfg: config(),
        seen: HashSet::new(),
        decls: Vec::new(),
    };
    collect.add::<T>();
    Declared {
        name: T::ident(&collect.cfg),
        tag: T::TAG,
        decls: collect.decls,
    }
}

/// Writes the module for a service named `service`.
#[doc(hidden)]
pub fn typescript(
    service: &str,
    inbound: Side,
    outbound: Side,
    state: Side,
    private: Side,
) -> Result<String, TypesError> {
    let mut out = format!(
        "// The message types of the Stateroom service `{service}`, generated from its\n\
         // Rust definitions: do not edit. Regenerate with `cargo run -- --emit-ts <this file>`.\n"
    );
    let mut seen = HashSet::new();
    let mut side = |side: Side| -> Result<(String, Option<&'static str>), TypesError> {
        Ok(match side {
            Side::Typed(declared) => {
                let declared = declared?;
                for (id, decl) in declared.decls {
                    if seen.insert(id) {
                        let _ = write!(out, "\n{decl}\n");
                    }
                }
                (declared.name, declared.tag)
            }
            Side::Text => ("string".to_owned(), None),
            Side::Nothing => ("never".to_owned(), None),
            Side::Unknown => ("unknown".to_owned(), None),
        })
    };
    let (inbound, in_tag) = side(inbound)?;
    let (outbound, out_tag) = side(outbound)?;
    let (state, _) = side(state)?;
    let (private, _) = side(private)?;
    let tag = |tag: Option<&str>| tag.map_or("null".to_owned(), |tag| format!("{tag:?}"));
    let (in_tag, out_tag) = (tag(in_tag), tag(out_tag));
    let _ = write!(
        out,
        "\n/** `{service}`: what its rooms accept (`in`) and send (`out`), the field\n \
         * that tells their variants apart, and the state they sync (`state`: every\n \
         * client's view; `private`: each client's own). Pass it to `connect` from\n \
         * `@stateroom/client`. */\n\
         export const {service}: {{\n  readonly service: {service:?};\n  readonly tag: {out_tag};\n  \
         readonly inTag: {in_tag};\n  readonly in?: {inbound};\n  readonly out?: {outbound};\n  \
         readonly state?: {state};\n  readonly private?: {private};\n}} = \
         {{ service: {service:?}, tag: {out_tag}, inTag: {in_tag} }};\n"
    );
    Ok(out)
}

/// Serves `S`, with `--emit-ts` writing its TypeScript (the macro's `main`).
#[doc(hidden)]
pub fn run_typed<S: stateroom_core::SimpleStateroomService + ServiceTypes>(
    static_dir: Option<&'static str>,
) {
    stateroom_server::run_with::<S>(
        Some(|| S::typescript().map_err(|error| error.to_string())),
        static_dir,
    );
}
