// `#[stateroom::message]` on a union.
#[stateroom::message]
union Bits {
    a: u32,
    b: f32,
}

fn main() {}
