//! The Rust servers the load generator is pointed at.

pub mod raw;
pub mod rooms;

/// Where each message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// To every member of the sender's room, the sender included.
    Fanout,
    /// Back to the sender.
    Echo,
}
