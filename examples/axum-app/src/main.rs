//! See the crate documentation (`src/lib.rs`): `cargo run -p example-axum-app`.

use example_axum_app::app;

#[tokio::main]
async fn main() {
    stateroom::init_logging();
    let (router, rooms) = match app().await {
        Ok(app) => app,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(1);
        }
    };
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = match listen(&port) {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("error: cannot listen on port {port}: {error}");
            std::process::exit(1);
        }
    };
    let shutdown = async move {
        let _ = tokio::signal::ctrl_c().await;
        // The rooms close their clients (1001) while axum stops its own.
        rooms.shutdown().await;
    };
    if let Err(error) = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
    {
        eprintln!("error: {error}");
    }
}

/// Listens with an accept queue of 1,024, as Stateroom's own listeners do
/// (`TcpListener::bind` asks for 128, too few when every client reconnects
/// at once after a deploy: docs/production.md).
fn listen(port: &str) -> std::io::Result<tokio::net::TcpListener> {
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}")
        .parse()
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a port"))?;
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}
