//! placeholder
/// Placeholder.
#[derive(Debug, Clone)]
pub struct RapiConfig;
/// Placeholder.
pub async fn serve() {}
