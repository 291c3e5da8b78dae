//! The caller of an API request, authenticated once by an extractor before
//! the handler runs: a handler that takes [`Authenticated`] never sees a
//! request from nobody, and the use case it calls receives the actor
//! instead of checking the token a second time.

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::error::ApiError;
use super::{auth_header, Reg};
use crate::registry::auth::{self, Actor};
use crate::registry::RegistryError;

/// The actor behind the request's `Authorization` header. Extracted before
/// the body is read, so a large upload from a stranger is refused unread.
pub struct Authenticated(pub Actor);

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let reg = req.app_data::<Reg>().cloned();
        let header = auth_header(req);
        Box::pin(async move {
            let reg = reg.ok_or_else(|| {
                RegistryError::Io(std::io::Error::other("the registry is not configured"))
            })?;
            let actor = web::block(move || -> Result<Actor, RegistryError> {
                let mut conn = reg.db.conn()?;
                auth::authenticate(&mut conn, header.as_deref().into())
            })
            .await??;
            Ok(Authenticated(actor))
        })
    }
}
