//! A small blocking HTTP client for the registry's API.

use std::io::Read;
use std::time::Duration;

use serde::de::DeserializeOwned;

use super::{ApiError, ClientError, ClientResult};

pub struct RegistryClient {
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
}

/// The error envelope the API answers with.
#[derive(serde::Deserialize)]
struct ErrorBody {
    errors: Vec<ApiError>,
}

impl RegistryClient {
    pub fn new(base: &str, token: Option<String>) -> Self {
        RegistryClient {
            base: base.trim_end_matches('/').to_string(),
            token,
            agent: ureq::AgentBuilder::new()
                .timeout_connect(Duration::from_secs(10))
                .timeout(Duration::from_secs(120))
                .user_agent(concat!("gemeinwerk/", env!("CARGO_PKG_VERSION")))
                .build(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    fn request(&self, method: &str, path: &str) -> ureq::Request {
        let req = self.agent.request(method, &format!("{}{path}", self.base));
        match &self.token {
            Some(t) => req.set("Authorization", &format!("Bearer {t}")),
            None => req,
        }
    }

    fn require_token(&self) -> ClientResult<()> {
        if self.token.is_none() {
            return Err(ClientError::NoToken);
        }
        Ok(())
    }

    fn handle(&self, result: Result<ureq::Response, ureq::Error>) -> ClientResult<ureq::Response> {
        match result {
            Ok(r) => Ok(r),
            Err(ureq::Error::Status(status, response)) => {
                let text =
                    super::terminal::escape_controls(&response.into_string().unwrap_or_default());
                Err(match serde_json::from_str::<ErrorBody>(&text) {
                    Ok(body) => ClientError::Api {
                        status,
                        errors: body.errors,
                    },
                    Err(_) => ClientError::Status {
                        status,
                        body: text.trim().to_string(),
                    },
                })
            }
            Err(e) => Err(ClientError::Unreachable {
                registry: self.base.clone(),
                hint: "",
                source: Box::new(e),
            }),
        }
    }

    fn bad_answer(
        &self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> ClientError {
        ClientError::BadAnswer {
            registry: self.base.clone(),
            source: source.into(),
        }
    }

    /// Every answer passes `terminal::escape_json` on its way in, so that
    /// no command can print a registry's control characters raw.
    fn json<T: DeserializeOwned>(&self, response: ureq::Response) -> ClientResult<T> {
        let mut value: serde_json::Value = response.into_json().map_err(|e| self.bad_answer(e))?;
        super::terminal::escape_json(&mut value);
        serde_json::from_value(value).map_err(|e| self.bad_answer(e))
    }

    pub fn get_json<T: DeserializeOwned>(&self, path: &str) -> ClientResult<T> {
        let r = self.handle(self.request("GET", path).call())?;
        self.json(r)
    }

    pub fn get_bytes(&self, path: &str) -> ClientResult<Vec<u8>> {
        let r = self.handle(self.request("GET", path).call())?;
        let mut bytes = Vec::new();
        r.into_reader()
            .read_to_end(&mut bytes)
            .map_err(|e| self.bad_answer(e))?;
        Ok(bytes)
    }

    /// An authenticated request with a JSON body (or none).
    pub fn send_json<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> ClientResult<T> {
        self.require_token()?;
        let req = self.request(method, path);
        let result = match body {
            Some(b) => req.send_json(b),
            None => req.call(),
        };
        let r = self.handle(result)?;
        self.json(r)
    }

    /// A JSON request that needs no token (the trusted-publishing exchange).
    pub fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> ClientResult<T> {
        let r = self.handle(self.request("POST", path).send_json(body))?;
        self.json(r)
    }

    pub fn send_bytes<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        bytes: &[u8],
    ) -> ClientResult<T> {
        self.require_token()?;
        let req = self
            .request(method, path)
            .set("Content-Type", "application/gzip");
        let r = self.handle(req.send_bytes(bytes))?;
        self.json(r)
    }
}
