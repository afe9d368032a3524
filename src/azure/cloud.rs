//! The three Azure clouds: where Resource Manager lives and which token scope it takes.

use std::sync::Arc;

use azure_core::cloud::CloudConfiguration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    Public,
    Usgov,
    China,
}

impl Cloud {
    pub fn name(self) -> &'static str {
        match self {
            Cloud::Public => "public",
            Cloud::Usgov => "usgov",
            Cloud::China => "china",
        }
    }

    /// The Resource Manager endpoint.
    pub fn arm_endpoint(self) -> &'static str {
        match self {
            Cloud::Public => "https://management.azure.com",
            Cloud::Usgov => "https://management.usgovcloudapi.net",
            Cloud::China => "https://management.chinacloudapi.cn",
        }
    }

    /// The OAuth 2.0 scope of a Resource Manager token (the v2 form: resource + `/.default`).
    pub fn token_scope(self) -> &'static str {
        match self {
            Cloud::Public => "https://management.azure.com/.default",
            Cloud::Usgov => "https://management.usgovcloudapi.net/.default",
            Cloud::China => "https://management.chinacloudapi.cn/.default",
        }
    }

    /// The Log Analytics query API endpoint and its token scope (Microsoft's "Access the
    /// Azure Monitor Log Analytics API" page: api.loganalytics.io for the public cloud, with
    /// the sovereign clouds' own hosts).
    pub fn log_analytics(self) -> (&'static str, &'static str) {
        match self {
            Cloud::Public => (
                "https://api.loganalytics.io",
                "https://api.loganalytics.io/.default",
            ),
            Cloud::Usgov => (
                "https://api.loganalytics.us",
                "https://api.loganalytics.us/.default",
            ),
            Cloud::China => (
                "https://api.loganalytics.azure.cn",
                "https://api.loganalytics.azure.cn/.default",
            ),
        }
    }

    /// The Microsoft Graph endpoint (national clouds have their own).
    pub fn graph(self) -> &'static str {
        match self {
            Cloud::Public => "https://graph.microsoft.com",
            Cloud::Usgov => "https://graph.microsoft.us",
            Cloud::China => "https://microsoftgraph.chinacloudapi.cn",
        }
    }

    /// What azure_identity needs to pick the cloud's Entra ID authority.
    pub fn configuration(self) -> Arc<CloudConfiguration> {
        Arc::new(match self {
            Cloud::Public => CloudConfiguration::AzurePublic,
            Cloud::Usgov => CloudConfiguration::AzureGovernment,
            Cloud::China => CloudConfiguration::AzureChina,
        })
    }
}
