//! Signing in: which azure_identity credential to use, and `auto`, which tries them in the
//! order docs/commands.md gives (under `collect`) and says which one answered.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, bail};
use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use azure_core::http::{ClientOptions, RetryOptions, Transport as CoreTransport};
use azure_identity::{
    AzureCliCredential, AzureDeveloperCliCredential, ClientSecretCredential,
    ClientSecretCredentialOptions, ManagedIdentityCredential, ManagedIdentityCredentialOptions,
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};

use super::cloud::Cloud;
use super::http::Transport;

/// The variable `env-token` reads (and `auto` tries first).
pub const TOKEN_VAR: &str = "JITAUDIT_ACCESS_TOKEN";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMethod {
    Auto,
    Cli,
    DeveloperCli,
    ManagedIdentity,
    ServicePrincipal,
    WorkloadIdentity,
    EnvToken,
}

impl AuthMethod {
    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::Auto => "auto",
            AuthMethod::Cli => "cli",
            AuthMethod::DeveloperCli => "developer-cli",
            AuthMethod::ManagedIdentity => "managed-identity",
            AuthMethod::ServicePrincipal => "service-principal",
            AuthMethod::WorkloadIdentity => "workload-identity",
            AuthMethod::EnvToken => "env-token",
        }
    }
}

/// A token handed over as is (`JITAUDIT_ACCESS_TOKEN`). Its Debug never shows it.
#[derive(Debug)]
pub struct StaticToken(Secret);

impl StaticToken {
    pub fn new(token: Secret) -> Arc<StaticToken> {
        Arc::new(StaticToken(token))
    }
}

#[async_trait::async_trait]
impl TokenCredential for StaticToken {
    async fn get_token(
        &self,
        _scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        // The expiry is unknown; an expired token shows as HTTP 401, which says so.
        let expires =
            azure_core::time::OffsetDateTime::now_utc() + azure_core::time::Duration::hours(1);
        Ok(AccessToken::new(self.0.clone(), expires))
    }
}

/// A signed-in credential and which method gave it.
pub struct SignedIn {
    pub credential: Arc<dyn TokenCredential>,
    pub method: AuthMethod,
}

/// Builds the credential `method` names; `auto` tries each in turn with a real token request
/// and keeps the first that answers. Errors list what each attempt said.
pub async fn sign_in(method: AuthMethod, cloud: Cloud, timeout: Duration) -> Result<SignedIn> {
    let scope = cloud.token_scope();
    if method != AuthMethod::Auto {
        let credential = build(method, cloud, timeout)?;
        credential
            .get_token(&[scope], None)
            .await
            .map_err(|e| anyhow::anyhow!("sign-in with {} failed: {}", method.name(), e))?;
        return Ok(SignedIn { credential, method });
    }
    let mut tried = Vec::new();
    for candidate in auto_candidates() {
        let credential = match build(candidate, cloud, timeout) {
            Ok(c) => c,
            Err(e) => {
                tried.push(format!("{}: {e:#}", candidate.name()));
                continue;
            }
        };
        match credential.get_token(&[scope], None).await {
            Ok(_) => {
                return Ok(SignedIn {
                    credential,
                    method: candidate,
                });
            }
            Err(e) => tried.push(format!("{}: {e}", candidate.name())),
        }
    }
    bail!(
        "no sign-in method worked (--auth auto tried, in order):\n  {}",
        tried.join("\n  ")
    )
}

/// The methods `auto` tries, in order, leaving out those whose settings are plainly absent
/// (so a laptop does not wait on the managed identity endpoint).
fn auto_candidates() -> Vec<AuthMethod> {
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    let mut out = Vec::new();
    if set(TOKEN_VAR) {
        out.push(AuthMethod::EnvToken);
    }
    if set("AZURE_FEDERATED_TOKEN_FILE") {
        out.push(AuthMethod::WorkloadIdentity);
    }
    if set("AZURE_TENANT_ID") && set("AZURE_CLIENT_ID") && set("AZURE_CLIENT_SECRET") {
        out.push(AuthMethod::ServicePrincipal);
    }
    if set("IDENTITY_ENDPOINT") || set("MSI_ENDPOINT") || imds_reachable() {
        out.push(AuthMethod::ManagedIdentity);
    }
    out.push(AuthMethod::Cli);
    out.push(AuthMethod::DeveloperCli);
    out
}

/// Whether the instance metadata endpoint answers at all (a VM, VMSS or Arc machine).
fn imds_reachable() -> bool {
    let addr = std::net::SocketAddr::from(([169, 254, 169, 254], 80));
    std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
}

fn client_options(cloud: Cloud, timeout: Duration) -> Result<ClientOptions> {
    let transport: Arc<dyn azure_core::http::HttpClient> = Transport::new(timeout)?;
    Ok(ClientOptions {
        transport: Some(CoreTransport::new(transport)),
        cloud: Some(cloud.configuration()),
        retry: RetryOptions::none(),
        ..Default::default()
    })
}

fn build(method: AuthMethod, cloud: Cloud, timeout: Duration) -> Result<Arc<dyn TokenCredential>> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let need =
        |k: &str| env(k).ok_or_else(|| anyhow::anyhow!("{} needs {k} to be set", method.name()));
    Ok(match method {
        AuthMethod::EnvToken => {
            let token = need(TOKEN_VAR)?;
            StaticToken::new(Secret::new(token.trim().to_string()))
        }
        AuthMethod::ServicePrincipal => {
            let tenant = need("AZURE_TENANT_ID")?;
            let client = need("AZURE_CLIENT_ID")?;
            let secret = need("AZURE_CLIENT_SECRET")?;
            ClientSecretCredential::new(
                &tenant,
                client,
                Secret::new(secret),
                Some(ClientSecretCredentialOptions {
                    client_options: client_options(cloud, timeout)?,
                }),
            )?
        }
        AuthMethod::WorkloadIdentity => {
            let file = need("AZURE_FEDERATED_TOKEN_FILE")?;
            if !Path::new(&file).is_file() {
                bail!("workload-identity: AZURE_FEDERATED_TOKEN_FILE={file} is not a file");
            }
            let mut options = WorkloadIdentityCredentialOptions::default();
            options.credential_options.client_options = client_options(cloud, timeout)?;
            WorkloadIdentityCredential::new(Some(options))?
        }
        AuthMethod::ManagedIdentity => {
            let options = ManagedIdentityCredentialOptions {
                user_assigned_id: env("AZURE_CLIENT_ID")
                    .map(azure_identity::UserAssignedId::ClientId),
                client_options: client_options(cloud, timeout)?,
            };
            ManagedIdentityCredential::new(Some(options))?
        }
        AuthMethod::Cli => AzureCliCredential::new(None)?,
        AuthMethod::DeveloperCli => AzureDeveloperCliCredential::new(None)?,
        AuthMethod::Auto => bail!("auto is resolved by sign_in"),
    })
}
