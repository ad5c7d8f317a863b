//! The `#[stateroom::service]` attribute. Use it through the `stateroom` crate,
//! which documents it in full; this crate is an implementation detail whose
//! version is pinned by `stateroom`.
//!
//! `#[stateroom::message]` (module `message`) is a small attribute of its
//! own: it derives a message type's TypeScript definition.
//!
//! The service macro runs in stages, one module each: `args` (the attribute's
//! arguments), `parse` (the user's impl → a model of its hooks), `validate`
//! (rules over the whole model), `expand` (model → tokens) and `fallback`
//! (what to emit when a stage failed).

mod args;
mod expand;
mod fallback;
mod internals;
mod message;
mod parse;
mod suggest;
mod validate;

use proc_macro::TokenStream;

/// Gives a message type a TypeScript definition, for the client types that
/// `--emit-ts` writes. See `stateroom::message`.
#[proc_macro_attribute]
pub fn message(args: TokenStream, item: TokenStream) -> TokenStream {
    message::expand(args.into(), item.into()).into()
}

/// Turns an inherent `impl` block into a Stateroom service (and, unless
/// `no_main` is given, a `main` that serves it). See the `stateroom` crate's
/// documentation of `stateroom::service` for the hooks, their signatures, and
/// the errors it reports.
#[proc_macro_attribute]
pub fn service(args: TokenStream, item: TokenStream) -> TokenStream {
    service_impl(args.into(), item.into()).into()
}

fn service_impl(
    args: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    let (args, args_error) = args::parse(args);
    let service = parse::parse(item.clone()).and_then(|service| {
        validate::validate(&service, &args)?;
        Ok(service)
    });
    let emit_main = !args.no_main;
    let output = match (args_error, service) {
        (None, Ok(service)) => expand::expand(&args, &service),
        // A bad argument and a bad impl are independent: report both.
        (Some(mut error), Err(more)) => {
            error.combine(more);
            fallback::fallback(item, &error, emit_main)
        }
        (Some(error), Ok(_)) | (None, Err(error)) => fallback::fallback(item, &error, emit_main),
    };
    if std::env::var_os("STATEROOM_MACROS_DEBUG").is_some_and(|v| v == "1") {
        eprintln!("{output}");
    }
    output
}
