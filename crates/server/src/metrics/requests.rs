//! The middleware that counts every API request by method, route template and status, and
//! times it. Labels stay bounded whatever a client sends: the route is the template the router
//! matched (`/v1/teams/{org}/streams`, never the path itself) or `unmatched`, the method one of
//! HTTP's own or `other`. On the request path it costs one clock read and a hashed look-up per
//! series under a read lock held for no await, and allocates nothing once a series exists.

use std::{sync::Arc, time::Instant};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{Method, StatusCode},
    middleware::Next,
    response::Response,
};

use super::{DatabaseFailure, Metrics};

/// The route label of a request the router matched no route for.
const UNMATCHED: &str = "unmatched";

/// Counts and times one request (the layer `crate::app` puts around every route).
pub(crate) async fn track(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    // A clone of the matched path is a reference count: the request moves on below.
    let route = request.extensions().get::<MatchedPath>().cloned();
    let route = route.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
    let response = next.run(request).await;
    let status = response.status();
    metrics
        .durations
        .with_label_values(&[method, route])
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .with_label_values(&[method, route, status.as_str()])
        .inc();
    if status == StatusCode::TOO_MANY_REQUESTS {
        metrics.rate_limited.inc();
    }
    if let Some(failure) = response.extensions().get::<DatabaseFailure>() {
        metrics.database_failed(*failure);
    }
    response
}

/// The method's label: its name for HTTP's own methods, `other` for any a client made up.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_made_up_method_is_other() {
        assert_eq!(method_label(&Method::GET), "GET");
        let made_up = Method::from_bytes(b"BREW").expect("a token is a method");
        assert_eq!(method_label(&made_up), "other");
    }
}
