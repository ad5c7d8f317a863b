//! The model of a service `impl` block: its hooks and the types that matter.

use super::hooks::HookKind;
use syn::{ItemImpl, Type};

/// How the `message` hook wants its message, or the `alarm` hook its key.
#[derive(Debug, Clone)]
pub(crate) enum ValueParam {
    /// `&str`: the raw text frame (for `alarm`: the key, decoded as a string).
    Str,
    /// `String`: the same, owned.
    String,
    /// `&TimerKey` (`alarm` only): the key as it is.
    TimerKey,
    /// Anything else: decoded from JSON with serde. Keeps the user's type tokens.
    Typed(Box<Type>),
}

/// How the `binary` hook wants its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinaryParam {
    /// `&[u8]`.
    Slice,
    /// `Vec<u8>`.
    Vec,
}

/// One recognised hook.
#[derive(Debug, Clone)]
pub(crate) struct Hook {
    pub(crate) kind: HookKind,
    /// The user's name token, for errors.
    pub(crate) ident: syn::Ident,
    /// How many parameters it takes besides `self`.
    pub(crate) inputs: usize,
    /// Set for `message` and `alarm`.
    pub(crate) value: Option<ValueParam>,
    /// Set for `binary`.
    pub(crate) binary: Option<BinaryParam>,
    /// The user's type of the client parameter, for hooks that take one.
    pub(crate) client_ty: Option<Box<Type>>,
    /// The user's return type (`join`, `command`), for a spanned type check.
    pub(crate) output: Option<Box<Type>>,
    /// The type of the first parameter after `self` (`command`).
    pub(crate) first_ty: Option<Box<Type>>,
}

impl Hook {
    /// Whether the hook takes the context as its last parameter.
    pub(crate) fn takes_ctx(&self) -> bool {
        self.inputs == self.kind.arity().1
    }

    /// For a view hook: the type it returns, seen through its references
    /// (`-> &Board` syncs a `Board`), and how many references that was;
    /// `None` when the type cannot be named (`impl Serialize`) or is absent.
    pub(crate) fn view_type(&self) -> Option<(&Type, usize)> {
        let mut ty = self.output.as_deref()?;
        let mut references = 0;
        while let Type::Reference(reference) = ty {
            ty = &reference.elem;
            references += 1;
        }
        (!matches!(ty, Type::ImplTrait(_))).then_some((ty, references))
    }
}

/// The model of a service `impl` block.
#[derive(Debug, Clone)]
pub(crate) struct Service {
    /// The user's block, emitted unchanged.
    pub(crate) item: ItemImpl,
    /// The hooks found, in the order written (duplicates included, for `validate`).
    pub(crate) hooks: Vec<Hook>,
}

impl Service {
    pub(crate) fn self_ty(&self) -> &Type {
        &self.item.self_ty
    }

    pub(crate) fn hook(&self, kind: HookKind) -> Option<&Hook> {
        self.hooks.iter().find(|hook| hook.kind == kind)
    }
}
