//! The attribute's arguments, parsed.
use super::*;
use quote::quote;

fn parse_ok(tokens: TokenStream) -> Args {
    let (args, error) = parse(tokens);
    assert!(error.is_none(), "{error:?}");
    args
}

fn parse_err(tokens: TokenStream) -> (Args, String) {
    let (args, error) = parse(tokens);
    (args, error.expect("an error").to_string())
}

#[test]
fn accepts_nothing_no_main_and_reconnect() {
    let args = parse_ok(quote!());
    assert!(!args.no_main && args.reconnect_ms.is_none() && args.persist.is_none());
    assert!(parse_ok(quote!(no_main)).no_main);
    let args = parse_ok(quote!(no_main, reconnect = "30s"));
    assert_eq!(args.reconnect_ms, Some(30_000));
    assert_eq!(
        parse_ok(quote!(reconnect = "250ms")).reconnect_ms,
        Some(250)
    );
    assert_eq!(
        parse_ok(quote!(reconnect = "2m")).reconnect_ms,
        Some(120_000)
    );
}

#[test]
fn rejects_misspelt_and_unknown_arguments() {
    let (args, error) = parse_err(quote!(no_mian));
    assert!(error.contains("did you mean `no_main`"), "{error}");
    assert!(args.no_main, "a misspelt no_main still leaves main out");
    let (args, error) = parse_err(quote!(port = 80));
    assert!(error.contains("accepted arguments are"), "{error}");
    assert!(!args.no_main);
    let (_, error) = parse_err(quote!(no_main = true));
    assert!(error.contains("takes no value"), "{error}");
    let (_, error) = parse_err(quote!(reconect = "1s"));
    assert!(error.contains("did you mean `reconnect`"), "{error}");
}

#[test]
fn persist_and_its_options() {
    let args = parse_ok(quote!(persist));
    let persist = args.persist.unwrap();
    assert_eq!(
        (persist.durability, persist.version),
        (Durability::Gated, 1)
    );
    let args = parse_ok(quote!(persist(durability = "debounced(2s)", version = 3)));
    let persist = args.persist.unwrap();
    assert_eq!(
        (persist.durability, persist.version),
        (Durability::Debounced(2000), 3)
    );
    let args = parse_ok(quote!(persist(durability = "manual")));
    assert_eq!(args.persist.unwrap().durability, Durability::Manual);
    let (_, error) = parse_err(quote!(persist(durability = "sometimes")));
    assert!(error.contains("`durability` is"), "{error}");
    let (_, error) = parse_err(quote!(persist(version = 0)));
    assert!(error.contains("whole number"), "{error}");
    let (_, error) = parse_err(quote!(persist(often = 1)));
    assert!(error.contains("`persist` takes"), "{error}");
    let (_, error) = parse_err(quote!(persits));
    assert!(error.contains("did you mean `persist`"), "{error}");
}

#[test]
fn outbound_takes_a_type_name() {
    let args = parse_ok(quote!(outbound = ChatOut, reconnect = "1s"));
    let ty = args.outbound.unwrap();
    assert_eq!(quote!(#ty).to_string(), "ChatOut");
    let args = parse_ok(quote!(outbound = crate::wire::Out));
    assert!(args.outbound.is_some());
    let (_, error) = parse_err(quote!(outbound = "ChatOut"));
    assert!(error.contains("takes the name of the type"), "{error}");
    let (_, error) = parse_err(quote!(outbound));
    assert!(error.contains("outbound = ChatOut"), "{error}");
}

#[test]
fn static_dir_takes_a_path() {
    let args = parse_ok(quote!(static_dir = "web"));
    assert_eq!(args.static_dir.unwrap().value(), "web");
    for bad in [
        quote!(static_dir = web),
        quote!(static_dir = ""),
        quote!(static_dir),
    ] {
        let (_, error) = parse_err(bad);
        assert!(error.contains("static_dir = \"web\""), "{error}");
    }
}

#[test]
fn rejects_bad_windows() {
    for bad in [
        quote!(reconnect = 30),
        quote!(reconnect = "30"),
        quote!(reconnect = "x s"),
        quote!(reconnect = "3d"),
    ] {
        let (_, error) = parse_err(bad);
        assert!(error.contains("takes a duration"), "{error}");
    }
    let (_, error) = parse_err(quote!(reconnect = "0s"));
    assert!(error.contains("zero window"), "{error}");
    let (_, error) = parse_err(quote!(reconnect));
    assert!(error.contains("reconnect = \"30s\""), "{error}");
}

#[test]
fn presence_and_listed() {
    assert_eq!(
        parse_ok(quote!(presence)).presence,
        Some(PresenceMode::Full)
    );
    assert_eq!(
        parse_ok(quote!(presence = "count")).presence,
        Some(PresenceMode::Count)
    );
    assert!(parse_ok(quote!(listed)).listed);
    let (_, error) = parse_err(quote!(presence = "some"));
    assert!(error.contains("`presence` is"), "{error}");
    let (_, error) = parse_err(quote!(presence = 3));
    assert!(error.contains("`presence` is"), "{error}");
    let (_, error) = parse_err(quote!(listed = true));
    assert!(error.contains("takes no value"), "{error}");
    let (_, error) = parse_err(quote!(presense));
    assert!(error.contains("did you mean `presence`"), "{error}");
}
