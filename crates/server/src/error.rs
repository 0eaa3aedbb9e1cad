//! `DavError`: every way a request can fail, turned into a response in one function.

use crate::body::Body;
use hyper::{Response, StatusCode};
use tributary_dav_proto::response::{condition_body, ConditionContent, NeededPrivilege};
use tributary_dav_proto::Precondition;

/// A failed request.
#[derive(Debug)]
pub enum DavError {
    /// 400 with a one-line reason.
    BadRequest(String),
    /// A bare status with no body.
    Status(StatusCode),
    /// A status with a one-line plain-text reason.
    Text(StatusCode, String),
    /// A precondition or postcondition failure with a DAV:error body (RFC 4918 §16,
    /// RFC 4791 §1.3).
    Condition {
        /// 403, 409, 412, 507…
        status: StatusCode,
        /// The condition element.
        condition: Precondition,
        /// Hrefs inside the condition element.
        hrefs: Vec<String>,
        /// Human-readable detail.
        detail: Option<String>,
    },
    /// 403 with DAV:need-privileges (RFC 3744 §7.1.1): the resources and the
    /// privileges the request needed there (none when unknown).
    NeedPrivileges {
        /// Where which privilege was missing.
        resources: Vec<NeededPrivilege>,
        /// Human-readable detail.
        detail: Option<String>,
    },
    /// 401 with a Basic challenge.
    Unauthorized,
    /// 500; the message is logged, never sent.
    Internal(String),
    /// The inner error, answered with `Connection: close` (the request body was left
    /// unread, so the connection cannot carry another request).
    CloseAfter(Box<DavError>),
    /// 503 with Retry-After: the database stayed locked past the busy timeout.
    Busy,
    /// 503 with Retry-After: too many password checks are waiting (a login flood).
    /// Logged at debug only, so the flood does not become a log flood too.
    Overloaded,
    /// A status with a JSON body (the webhook and management API answers).
    Json(StatusCode, String),
}

impl DavError {
    /// A failed condition.
    pub fn condition(status: StatusCode, condition: Precondition) -> Self {
        Self::Condition {
            status,
            condition,
            hrefs: vec![],
            detail: None,
        }
    }

    /// A failed condition with a detail message.
    pub fn condition_with(
        status: StatusCode,
        condition: Precondition,
        detail: impl Into<String>,
    ) -> Self {
        Self::Condition {
            status,
            condition,
            hrefs: vec![],
            detail: Some(detail.into()),
        }
    }

    /// `e` from a write of `href` that needed `privilege` (a DAV: privilege's local
    /// name): a read-only refusal names them in its DAV:need-privileges, anything else
    /// maps as usual.
    pub fn store_at(e: tributary_store::Error, href: &str, privilege: &'static str) -> Self {
        match e {
            tributary_store::Error::ReadOnly(source) => {
                DavError::read_only(href, privilege, &source)
            }
            other => other.into(),
        }
    }

    /// 403 DAV:need-privileges: `href` is written by the pulled source `source`, so the
    /// client lacks `privilege` there.
    pub fn read_only(href: &str, privilege: &'static str, source: &str) -> Self {
        DavError::NeedPrivileges {
            resources: vec![NeededPrivilege {
                href: href.to_string(),
                privilege,
            }],
            detail: Some(read_only_detail(source)),
        }
    }

    /// Turn the error into a response. 5xx are logged here, once; 4xx at debug level.
    pub fn into_response(self, realm: &str) -> Response<Body> {
        if let DavError::CloseAfter(inner) = self {
            let mut r = inner.into_response(realm);
            r.headers_mut().insert(
                hyper::header::CONNECTION,
                hyper::header::HeaderValue::from_static("close"),
            );
            return r;
        }
        match self {
            DavError::Busy => {
                tracing::warn!("database busy: answered 503");
                return unavailable("2");
            }
            DavError::Overloaded => {
                tracing::debug!("password checks saturated: answered 503");
                return unavailable("1");
            }
            _ => {}
        }
        let (status, body, ctype) = self.parts();
        if status.is_client_error() {
            tracing::debug!(%status, "request refused");
        }
        respond(status, body, ctype, realm)
    }

    /// The status, body and Content-Type the error is answered with (an internal
    /// error is logged here).
    fn parts(self) -> (StatusCode, Body, Option<&'static str>) {
        const TEXT: Option<&str> = Some("text/plain; charset=utf-8");
        const XML: Option<&str> = Some("application/xml; charset=utf-8");
        match self {
            DavError::BadRequest(reason) => (
                StatusCode::BAD_REQUEST,
                Body::full(format!("{reason}\n")),
                TEXT,
            ),
            DavError::Status(s) => (s, Body::empty(), None),
            DavError::Json(s, body) => (s, Body::full(body), Some("application/json")),
            DavError::Text(s, reason) => (s, Body::full(format!("{reason}\n")), TEXT),
            DavError::Condition {
                status,
                condition,
                hrefs,
                detail,
            } => {
                let xml = condition_body(
                    condition,
                    ConditionContent::Hrefs(&hrefs),
                    detail.as_deref(),
                );
                (status, Body::full(xml), XML)
            }
            DavError::NeedPrivileges { resources, detail } => {
                let xml = condition_body(
                    Precondition::NeedPrivileges,
                    ConditionContent::Privileges(&resources),
                    detail.as_deref(),
                );
                (StatusCode::FORBIDDEN, Body::full(xml), XML)
            }
            DavError::Unauthorized => (StatusCode::UNAUTHORIZED, Body::empty(), None),
            DavError::Internal(msg) => {
                tracing::error!(error = %msg, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, Body::empty(), None)
            }
            DavError::CloseAfter(_) | DavError::Busy | DavError::Overloaded => {
                (StatusCode::INTERNAL_SERVER_ERROR, Body::empty(), None)
            }
        }
    }
}

/// The response of [`DavError::into_response`]: `status` with its body, and a Basic
/// challenge in `realm` on 401 (RFC 7617 §2).
fn respond(
    status: StatusCode,
    body: Body,
    ctype: Option<&'static str>,
    realm: &str,
) -> Response<Body> {
    let mut b = Response::builder().status(status);
    if let Some(ct) = ctype {
        b = b.header("Content-Type", ct);
    }
    if status == StatusCode::UNAUTHORIZED {
        b = b.header(
            "WWW-Authenticate",
            format!("Basic realm=\"{realm}\", charset=\"UTF-8\""),
        );
    }
    b.body(body)
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// 503 Service Unavailable with `Retry-After` (seconds) and no body.
fn unavailable(retry_after: &'static str) -> Response<Body> {
    Response::builder()
        .status(StatusCode::SERVICE_UNAVAILABLE)
        .header("Retry-After", retry_after)
        .body(Body::empty())
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

impl From<tributary_dav_proto::Error> for DavError {
    fn from(e: tributary_dav_proto::Error) -> Self {
        DavError::BadRequest(e.to_string())
    }
}

impl From<tributary_store::Error> for DavError {
    fn from(e: tributary_store::Error) -> Self {
        use tributary_store::Error as E;
        match e {
            E::NotFound => DavError::Status(StatusCode::NOT_FOUND),
            E::AlreadyExists => DavError::Status(StatusCode::METHOD_NOT_ALLOWED),
            E::PreconditionFailed => DavError::Status(StatusCode::PRECONDITION_FAILED),
            E::UidConflict(name) => DavError::Condition {
                status: StatusCode::CONFLICT,
                condition: Precondition::NoUidConflict,
                hrefs: vec![],
                detail: Some(format!("UID already used by {name}")),
            },
            E::Conflict(msg) => DavError::Text(StatusCode::CONFLICT, msg),
            // RFC 4331 §6: a request that would pass a quota fails with 507 and the
            // DAV:quota-not-exceeded precondition.
            E::QuotaExceeded(msg) => DavError::Condition {
                status: StatusCode::INSUFFICIENT_STORAGE,
                condition: Precondition::QuotaNotExceeded,
                hrefs: vec![],
                detail: Some(msg),
            },
            E::Full => DavError::Status(StatusCode::INSUFFICIENT_STORAGE),
            // RFC 4331 §6: DAV:quota-not-exceeded goes with 507.
            E::TooManyProperties(msg) => DavError::Condition {
                status: StatusCode::INSUFFICIENT_STORAGE,
                condition: Precondition::QuotaNotExceeded,
                hrefs: vec![],
                detail: Some(msg),
            },
            // RFC 3744 §7.1.1: what only a pulled source writes is refused with
            // DAV:need-privileges; handlers that know the href use `store_at`.
            E::ReadOnly(source) => DavError::NeedPrivileges {
                resources: vec![],
                detail: Some(read_only_detail(&source)),
            },
            E::Busy => DavError::Busy,
            other => DavError::Internal(other.to_string()),
        }
    }
}

/// Why a read-only refusal happened, for people reading the body.
fn read_only_detail(source: &str) -> String {
    format!("read-only: written by the source {source}")
}
