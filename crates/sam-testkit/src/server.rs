//! The axum side: one fallback handler that records every request, asks the provider's fake
//! for an answer, and sends it (after an injected delay, if any).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::Response;

use crate::fakes::{self, Call, Reply};
use crate::{Provider, RecordedRequest, Shared};

/// Bodies the fakes read are small: JSON objects, and user data of at most 1 MiB (larger ones
/// must still arrive whole, to be refused). A body beyond this is a test bug, read as empty.
const MAX_BODY_BYTES: usize = 4 << 20;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    // A fallback rather than routes: every path, known or not, is recorded and answered in the
    // provider's own 404 format, as the real APIs do.
    Router::new().fallback(handle).with_state(shared)
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .unwrap_or_default();
    let path = parts.uri.path().to_owned();
    let mut segments = path.trim_start_matches('/').splitn(2, '/');
    let provider = segments.next().and_then(Provider::from_prefix);
    let rest = format!("/{}", segments.next().unwrap_or_default());

    // The lock is released before any delay, so a slow fake never blocks the others.
    let (reply, delay) = {
        let mut inner = shared.lock();
        let (reply, delay) = match provider {
            Some(provider) => {
                let call = Call {
                    method: &parts.method,
                    path: &rest,
                    query: parts.uri.query(),
                    headers: &parts.headers,
                    body: &body,
                };
                fakes::answer(&mut inner, provider, &call)
            }
            None => (
                Reply::json(
                    404,
                    serde_json::json!({ "error": "no fake provider under this path" }),
                ),
                None,
            ),
        };
        inner.requests.push(RecordedRequest {
            provider,
            method: parts.method.to_string(),
            path,
            query: parts.uri.query().map(str::to_owned),
            header_names: parts
                .headers
                .keys()
                .map(|name| name.as_str().to_owned())
                .collect(),
            status: if reply.connection_dropped {
                0
            } else {
                reply.status.as_u16()
            },
        });
        (reply, delay)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    reply.into_response()
}
