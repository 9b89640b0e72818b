//! Request bodies must arrive within a deadline.
//!
//! actix bounds how long a request's head may take (`client_request_timeout`),
//! not its body: a client that declares a large `Content-Length` and then stops
//! sending would keep its connection, and whatever the handler holds for it, for
//! as long as it liked. So every request's body is read through [`Deadline`],
//! which fails once `body_timeout_ms` has passed since the head arrived; the
//! answer is then a 408 problem+json whichever handler or extractor was reading,
//! and the connection is closed, since the rest of the body is still on the wire.
//!
//! The deadline covers the whole body, not the pause between two chunks: a client
//! trickling one byte a second would pass any idle timeout and still hold the
//! connection forever.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::ConnectionType;
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::{Error, HttpMessage};
use futures_util::Stream;
use tokio::time::Sleep;

use super::AppState;
use crate::error::{Problem, problem_response};

/// Middleware (for `actix_web::middleware::from_fn`): reads the request's body
/// under the configured deadline and answers 408 if it did not arrive in time.
pub(crate) async fn deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let payload = req.take_payload();
    if matches!(payload, Payload::None) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let timeout = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.config.body_timeout())
        .unwrap_or_else(|| crate::config::Config::default().body_timeout());
    let unread = Rc::new(RefCell::new(None));
    req.set_payload(Payload::Stream {
        payload: Box::pin(Deadline {
            inner: payload,
            sleep: Box::pin(tokio::time::sleep(timeout)),
            timeout,
            unread: unread.clone(),
            finished: false,
        }),
    });
    let res = next.call(req).await?;
    let Some(unread) = unread.borrow_mut().take() else {
        return Ok(res.map_into_boxed_body());
    };
    // Whatever the reader made of the failed read (a 400 from an extractor, a
    // handler's own error), the client's answer is that it was too slow.
    tracing::info!(
        path = %res.request().path(),
        timeout_ms = timeout.as_millis() as u64,
        "request body did not arrive in time"
    );
    let (req, _) = res.into_parts();
    let (mut res, problem) = problem_response(&Problem::new(
        "request-timeout",
        "Request body too slow",
        StatusCode::REQUEST_TIMEOUT,
        format!(
            "the request body did not arrive in full within {} ms",
            timeout.as_millis()
        ),
    ))
    .into_parts();
    // The rest of the body may still come: close rather than read it. actix
    // closes after an answer while the unfinished body is still held, but reads a
    // dropped chunked body to its end, for as long as the client likes sending
    // it; so the answer holds the body until its last byte is written.
    res.head_mut().set_connection_type(ConnectionType::Close);
    let answer = AnswerHoldingBody {
        problem: Some(problem.try_into_bytes().unwrap_or_default()),
        _unread: unread,
    };
    Ok(ServiceResponse::new(
        req,
        res.set_body(BoxBody::new(answer)),
    ))
}

/// The 408's problem document, holding the rest of the body that came too
/// slowly until the document is sent.
struct AnswerHoldingBody {
    problem: Option<Bytes>,
    _unread: Payload,
}

impl MessageBody for AnswerHoldingBody {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.problem.as_ref().map_or(0, |b| b.len() as u64))
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Poll::Ready(self.get_mut().problem.take().map(Ok))
    }
}

/// A request body that ends in an error once its deadline has passed.
struct Deadline {
    inner: Payload,
    /// Started with the request; polled only while the body is being read, so a
    /// body that has arrived in full never times out.
    sleep: Pin<Box<Sleep>>,
    timeout: Duration,
    /// Where the unfinished body goes when the deadline passes: it tells
    /// [`deadline`] that the body failed because it was too slow.
    unread: Rc<RefCell<Option<Payload>>>,
    finished: bool,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.finished {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(None) => {
                this.finished = true;
                Poll::Ready(None)
            }
            Poll::Ready(Some(item)) => Poll::Ready(Some(item)),
            Poll::Pending => match this.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.finished = true;
                    let unread = std::mem::replace(&mut this.inner, Payload::None);
                    *this.unread.borrow_mut() = Some(unread);
                    Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!(
                            "the body did not arrive within {} ms",
                            this.timeout.as_millis()
                        ),
                    )))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}
