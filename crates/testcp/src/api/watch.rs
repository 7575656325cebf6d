//! Watch streams: newline-delimited `{"type","object"}` events over a chunked response, from a
//! resourceVersion (or a synthetic ADDED of the current objects for none/`0`), with bookmarks,
//! `timeoutSeconds`, 410 Gone as an ERROR event, and Table rows when `kubectl get -w` asks.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use super::handlers::{Call, selected};
use super::resources::ServedResource;
use super::selectors::Selector;
use super::{ApiBody, table};
use crate::clock::Clock;
use crate::status::ApiError;
use crate::store::{EventType, Filter};

/// Longest watch the server keeps open (kube-apiserver's default is 30–60 minutes).
const MAX_TIMEOUT: Duration = Duration::from_secs(3600);
/// How often an idle watch that allows bookmarks gets one.
const BOOKMARK_INTERVAL: Duration = Duration::from_secs(1);
/// Events buffered towards a slow client before the stream waits for it.
const BUFFER: usize = 64;

/// A response body fed by a channel: the watch task writes, hyper sends chunks.
struct ChannelBody(mpsc::Receiver<Bytes>);

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|bytes| Ok(Frame::data(bytes))))
    }
}

/// How events are rendered for this watch.
struct Renderer {
    resource: &'static ServedResource,
    table: bool,
    clock: Clock,
}

impl Renderer {
    fn event(&self, kind: &str, object: &Value, revision: u64) -> Bytes {
        let object = if self.table {
            table::table(self.resource, [object], revision, self.clock.now())
        } else {
            object.clone()
        };
        line(&json!({"type": kind, "object": object}))
    }

    fn bookmark(&self, revision: u64) -> Bytes {
        self.bookmark_with(json!({"resourceVersion": revision.to_string()}))
    }

    /// The bookmark that ends the initial events of a streaming list.
    fn initial_events_end(&self, revision: u64) -> Bytes {
        self.bookmark_with(json!({
            "resourceVersion": revision.to_string(),
            "annotations": {"k8s.io/initial-events-end": "true"},
        }))
    }

    fn bookmark_with(&self, metadata: Value) -> Bytes {
        let object = json!({"kind": self.resource.kind, "apiVersion": self.resource.api_version(), "metadata": metadata});
        line(&json!({"type": "BOOKMARK", "object": object}))
    }
}

fn line(value: &Value) -> Bytes {
    let mut text = value.to_string();
    text.push('\n');
    Bytes::from(text)
}

fn error_event(error: &ApiError) -> Bytes {
    line(&json!({"type": "ERROR", "object": error.to_status()}))
}

/// Starts a watch for `call`; the events flow from a spawned task.
pub(super) fn start(
    call: &Call<'_>,
    filter: Filter,
    fields: Selector,
    labels: Selector,
    table: bool,
) -> Result<Response<ApiBody>, ApiError> {
    let since = match call.query.get("resourceVersion") {
        None | Some("" | "0") => None,
        Some(text) => Some(
            text.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {text:?}")))?,
        ),
    };
    let timeout = call
        .query
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map_or(MAX_TIMEOUT, |s| Duration::from_secs(s).min(MAX_TIMEOUT));
    let bookmarks = call.query.flag("allowWatchBookmarks");
    // Streaming lists: the current objects first, then a bookmark marking their end.
    let initial_events = call.query.flag("sendInitialEvents");
    let since = if initial_events { None } else { since };
    let store = &call.api.store;
    let resource = call.resource.resource();
    let (initial, from) = match since {
        Some(version) => (Vec::new(), version),
        None => {
            let (items, revision) = store.list(&resource, &filter);
            (items, revision)
        }
    };
    let (sender, receiver) = mpsc::channel(BUFFER);
    let renderer = Renderer {
        resource: call.resource,
        table,
        clock: store.clock().clone(),
    };
    let limit = call.api.faults.watch_event_limit();
    let mut stopping = call.api.stopping.clone();
    let watch = store.watch(&resource, filter, Some(from));
    tokio::spawn(async move {
        let mut watch = match watch {
            Ok(watch) => watch,
            Err(error) => {
                let _ = sender.send(error_event(&error)).await;
                return;
            }
        };
        let mut sent = 0u64;
        let mut revision = from;
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut ticker = tokio::time::interval(BOOKMARK_INTERVAL);
        ticker.tick().await;
        let initial = initial.iter().filter(|o| selected(o, &fields, &labels)).map(|o| {
            let version = o
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .and_then(|v| v.parse().ok());
            (EventType::Added, Arc::clone(o), version.unwrap_or(from))
        });
        let backlog: Vec<_> = initial
            .chain(
                watch
                    .backlog
                    .drain(..)
                    .map(|e| (e.kind, e.object, e.resource_version)),
            )
            .collect();
        for (kind, object, version) in backlog {
            if limit.is_some_and(|l| sent >= l) {
                return;
            }
            if selected(&object, &fields, &labels)
                && sender
                    .send(renderer.event(kind.as_str(), &object, version))
                    .await
                    .is_err()
            {
                return;
            }
            sent += 1;
        }
        if initial_events && sender.send(renderer.initial_events_end(from)).await.is_err() {
            return;
        }
        loop {
            if limit.is_some_and(|l| sent >= l) {
                return;
            }
            let (chunk, last) = tokio::select! {
                () = &mut deadline => return,
                _ = stopping.changed() => return,
                () = sender.closed() => return,
                _ = ticker.tick(), if bookmarks => (renderer.bookmark(revision), false),
                event = watch.feed.recv() => match event {
                    Ok(event) if watch.wants(&event) && selected(&event.object, &fields, &labels) => {
                        revision = event.resource_version;
                        sent += 1;
                        (renderer.event(event.kind.as_str(), &event.object, event.resource_version), false)
                    }
                    Ok(event) => {
                        revision = revision.max(event.resource_version);
                        continue;
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        (error_event(&ApiError::gone("the watch fell too far behind; list again")), true)
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
            };
            if sender.send(chunk).await.is_err() || last {
                return;
            }
        }
    });
    let mut response = Response::new(ChannelBody(receiver).boxed());
    *response.status_mut() = StatusCode::OK;
    let content_type = if table {
        "application/json;as=Table;v=v1;g=meta.k8s.io"
    } else {
        "application/json"
    };
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(response)
}
