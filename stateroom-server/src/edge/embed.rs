//! Rooms inside an application of its own: [`Server::embed`](crate::Server::embed)
//! starts a service's rooms without a listener; [`Embedded::service`] is their
//! HTTP handling as a `tower` service that axum and hyper accept.

use crate::edge::Edge;
use crate::edge::drain;
use std::net::SocketAddr;
use std::sync::Arc;

/// A service mounted in an application of its own ([`Server::embed`](crate::Server::embed)).
#[derive(Debug, Clone)]
pub struct Embedded {
    pub(crate) edge: Arc<Edge>,
}

impl Embedded {
    /// The service's HTTP handling (`{ws_prefix}{room}` upgrades, `{http_prefix}{room}`
    /// requests, `/healthz`, `/readyz`, `/metrics`) as a `tower` service.
    #[must_use]
    pub fn service(&self) -> RoomsService {
        RoomsService {
            edge: self.edge.clone(),
        }
    }

    /// The rooms, to reach from outside ([`Rooms`](crate::Rooms)).
    #[must_use]
    pub fn rooms(&self) -> crate::engine::handle::Rooms {
        crate::engine::handle::Rooms::new(self.edge.engine.clone())
    }

    /// Shuts the rooms down gracefully (new joins refused, then every
    /// client closed with 1001 after what is queued for it, rooms saved),
    /// waiting at most the configured shutdown timeout. Call it with the
    /// application's own graceful shutdown.
    pub async fn shutdown(&self) {
        drain(&self.edge).await;
    }
}

/// An embedded service's HTTP handling: a `tower::Service` over any
/// `http::Request` body. Cheap to clone.
#[derive(Debug, Clone)]
pub struct RoomsService {
    edge: Arc<Edge>,
}

impl<B> tower_service::Service<hyper::Request<B>> for RoomsService
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = hyper::Response<crate::ResponseBody>;
    type Error = std::convert::Infallible;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: hyper::Request<B>) -> Self::Future {
        let edge = self.edge.clone();
        let peer = request.extensions().get::<SocketAddr>().copied();
        Box::pin(crate::edge::http::handle(edge, peer, request))
    }
}
