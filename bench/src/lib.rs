//! Benchmarks for Stateroom: the `stateroom-load` load generator, the servers
//! it is pointed at (ours, and a raw hyper-tungstenite floor), and the wire
//! formats they share. `bench/run.sh` runs them side by side with the Node
//! peers and writes `docs/benchmarks.md`.

pub mod colyseus;
pub mod load;
pub mod payload;
pub mod presence_storm;
pub mod procfs;
pub mod servers;
pub mod sync_load;
pub mod wire;
