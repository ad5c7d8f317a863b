//! The parser's errors and the model it builds.

use super::*;
use quote::quote;

fn error_of(tokens: TokenStream) -> String {
    parse(tokens)
        .unwrap_err()
        .into_iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn finds_hooks_and_their_shapes() {
    let service = parse(quote! {
        impl Chat {
            fn new(room_id: &str) -> Self { todo!() }
            fn message(&mut self, client: ClientId, msg: ChatIn, ctx: &impl StateroomContext) {}
            fn binary(&mut self, client: ClientId, data: Vec<u8>) {}
            fn timer(&mut self) {}
            fn helper(&self) -> usize { 0 }
        }
    })
    .unwrap();
    let kinds: Vec<_> = service.hooks.iter().map(|h| h.kind).collect();
    assert_eq!(
        kinds,
        [
            HookKind::New,
            HookKind::Message,
            HookKind::Binary,
            HookKind::Timer
        ]
    );
    let message = service.hook(HookKind::Message).unwrap();
    assert!(message.takes_ctx());
    assert!(
        matches!(&message.value, Some(ValueParam::Typed(ty)) if quote!(#ty).to_string() == "ChatIn")
    );
    assert_eq!(
        service.hook(HookKind::Binary).unwrap().binary,
        Some(BinaryParam::Vec)
    );
    assert!(!service.hook(HookKind::Timer).unwrap().takes_ctx());
    assert_eq!(service.hook(HookKind::New).unwrap().inputs, 1);
}

#[test]
fn raw_text_message_params() {
    let service = parse(quote! {
        impl Echo { fn message(&mut self, c: ClientId, text: &'static str) {} }
    })
    .unwrap();
    assert!(matches!(
        service.hook(HookKind::Message).unwrap().value,
        Some(ValueParam::Str)
    ));
    let service = parse(quote! {
        impl Echo { fn message(&mut self, c: ClientId, text: String) {} }
    })
    .unwrap();
    assert!(matches!(
        service.hook(HookKind::Message).unwrap().value,
        Some(ValueParam::String)
    ));
}

#[test]
fn alarm_keys() {
    let service = parse(quote! {
        impl Game {
            fn alarm(&mut self, key: Alarm, ctx: &impl StateroomContext) {}
        }
    })
    .unwrap();
    let alarm = service.hook(HookKind::Alarm).unwrap();
    assert!(alarm.takes_ctx());
    assert!(matches!(&alarm.value, Some(ValueParam::Typed(_))));
    let service = parse(quote!(impl Game { fn alarm(&mut self, key: &TimerKey) {} })).unwrap();
    assert!(matches!(
        service.hook(HookKind::Alarm).unwrap().value,
        Some(ValueParam::TimerKey)
    ));
    let error = error_of(quote!(impl Game { fn alarm(&mut self) {} }));
    assert!(error.contains("the `alarm` hook takes"), "{error}");
    let error = error_of(quote!(impl Game { fn alarm(&mut self, ctx: &impl StateroomContext) {} }));
    assert!(
        error.contains("takes the timer's key before the context"),
        "{error}"
    );
}

#[test]
fn reports_independent_mistakes_together() {
    let error = error_of(quote! {
        impl Chat {
            async fn connect(&mut self, client: ClientId) {}
            fn on_message(&mut self, client: ClientId, msg: ChatIn) {}
            fn timer(&self) {}
        }
    });
    assert!(error.contains("cannot be `async`"), "{error}");
    assert!(
        error.contains("unknown hook `on_message`; did you mean `message`?"),
        "{error}"
    );
    assert!(
        error.contains("must take `&mut self`, not `&self`"),
        "{error}"
    );
}

#[test]
fn names_the_missing_client_and_the_dyn_context() {
    let error = error_of(quote! {
        impl Chat { fn message(&mut self, msg: ChatIn, ctx: &impl StateroomContext) {} }
    });
    assert!(error.contains("missing its client parameter"), "{error}");
    assert!(!error.contains("before the context"), "{error}");
    let error = error_of(quote! {
        impl Chat { fn connect(&mut self, client: ClientId, ctx: &dyn StateroomContext) {} }
    });
    assert!(error.contains("cannot be `dyn`"), "{error}");
}

#[test]
fn join_takes_shared_self_and_returns_a_verdict() {
    let service = parse(quote! {
        impl Chat {
            fn join(&self, request: &JoinRequest) -> Result<User, Reject> { todo!() }
            fn invalid(&mut self, client: ClientId, error: &ErrorFrame) {}
            fn reconnect(&mut self, client: ClientId, ctx: &impl StateroomContext) {}
        }
    })
    .unwrap();
    let join = service.hook(HookKind::Join).unwrap();
    assert!(join.output.is_some() && !join.takes_ctx());
    assert!(service.hook(HookKind::Invalid).unwrap().client_ty.is_some());
    assert!(service.hook(HookKind::Reconnect).unwrap().takes_ctx());
    let error = error_of(quote! {
        impl Chat { fn join(&mut self, request: &JoinRequest) -> Result<(), Reject> { todo!() } }
    });
    assert!(error.contains("takes `&self`, not `&mut self`"), "{error}");
    let error = error_of(quote!(impl Chat { fn join(&self, request: &JoinRequest) {} }));
    assert!(error.contains("must return `Result<T, Reject>`"), "{error}");
}

#[test]
fn leaves_helpers_alone() {
    let service = parse(quote! {
        impl Chat {
            fn timers(&self) -> usize { 0 }
            fn names(&mut self) {}
        }
    })
    .unwrap();
    assert!(service.hooks.is_empty());
}

#[test]
fn rejects_wrong_items_and_arity() {
    assert!(
        error_of(quote!(
            struct Chat;
        ))
        .contains("not on the struct")
    );
    assert!(
        error_of(quote!(impl SimpleStateroomService for Chat {})).contains("not on a trait impl")
    );
    assert!(
        error_of(quote!(
            impl<T> Chat<T> {}
        ))
        .contains("generic or lifetime parameters")
    );
    assert!(error_of(quote!(impl Chat<'_> {})).contains("cannot borrow"));
    let error = error_of(quote!(impl Chat { fn connect(&mut self) {} }));
    assert!(error.contains("missing its client parameter"), "{error}");
    let error = error_of(quote!(impl Chat { fn timer(&mut self, a: u8, b: u8) {} }));
    assert!(
        error.contains("found 2 parameters besides `self`"),
        "{error}"
    );
    let error = error_of(quote!(impl Chat { fn timer(self) {} }));
    assert!(error.contains("not `self`"), "{error}");
    let error = error_of(quote!(impl Chat { fn new(&self) -> Self { todo!() } }));
    assert!(error.contains("takes no `self`"), "{error}");
}
