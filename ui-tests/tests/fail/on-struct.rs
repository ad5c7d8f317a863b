// The attribute on the struct instead of its impl block.
#[stateroom::service]
#[derive(Default)]
struct Chat {
    count: u32,
}
