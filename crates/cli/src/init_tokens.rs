//! The bootstrap tokens of `init phase bootstrap-token`: the `bootstrapTokens` of a kubeadm
//! `--config` InitConfiguration with kubeadm's defaults (usages `signing,authentication`, the
//! default node token group, a 24h TTL, a generated token when none is given), or one
//! generated default token without a config, as `kubeadm init` does.

use std::path::Path;

use kubetrust::bootstrap_token::{BootstrapToken, DEFAULT_NODE_TOKEN_GROUP, DEFAULT_TTL, TokenSpec, Usage};

/// One `bootstrapTokens` entry as written in the file.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenEntry {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    ttl: Option<String>,
    #[serde(default)]
    expires: Option<serde_json::Value>,
    #[serde(default)]
    usages: Vec<String>,
    #[serde(default)]
    groups: Vec<String>,
}

/// The tokens to create: the file's InitConfiguration `bootstrapTokens`, or one default token.
pub(crate) fn tokens(config: Option<&Path>) -> Result<Vec<TokenSpec>, Box<dyn std::error::Error>> {
    let entries = match config {
        Some(path) => entries(path)?,
        None => Vec::new(),
    };
    if entries.is_empty() {
        return Ok(vec![spec(TokenEntry::default())?]);
    }
    entries.into_iter().map(spec).collect()
}

/// The `bootstrapTokens` of the file's InitConfiguration document (none without one).
fn entries(path: &Path) -> Result<Vec<TokenEntry>, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let documents: Vec<serde_json::Value> =
        serde_saphyr::from_multiple(&text).map_err(|e| format!("{} is not YAML: {e}", path.display()))?;
    let Some(tokens) = documents
        .iter()
        .find(|doc| doc.get("kind").and_then(|k| k.as_str()) == Some("InitConfiguration"))
        .and_then(|doc| doc.get("bootstrapTokens"))
    else {
        return Ok(Vec::new());
    };
    serde_json::from_value(tokens.clone())
        .map_err(|e| format!("{}: InitConfiguration.bootstrapTokens: {e}", path.display()).into())
}

/// An entry with kubeadm's defaults applied, validated.
fn spec(entry: TokenEntry) -> Result<TokenSpec, Box<dyn std::error::Error>> {
    if entry.expires.is_some() {
        return Err("bootstrapTokens[].expires is not supported here: use ttl".into());
    }
    let token = match &entry.token {
        Some(text) => text
            .parse::<BootstrapToken>()
            .map_err(|e| format!("bootstrapTokens[].token: {e}"))?,
        None => BootstrapToken::generate()?,
    };
    let ttl = match &entry.ttl {
        Some(text) => kubetrust::kubeadm_config::parse_duration(text)
            .map_err(|e| format!("bootstrapTokens[].ttl {text:?}: {e}"))?,
        None => DEFAULT_TTL,
    };
    let usages = if entry.usages.is_empty() {
        vec![Usage::Signing, Usage::Authentication]
    } else {
        entry
            .usages
            .iter()
            .map(|u| u.parse::<Usage>())
            .collect::<Result<Vec<_>, _>>()?
    };
    let groups = if entry.groups.is_empty() {
        vec![DEFAULT_NODE_TOKEN_GROUP.to_owned()]
    } else {
        entry.groups
    };
    let spec = TokenSpec::new(token)
        .with_ttl(ttl)
        .with_usages(usages)
        .with_groups(groups)
        .with_description(entry.description);
    spec.validate()?;
    Ok(spec)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn defaults_without_a_config() {
        let specs = tokens(None).unwrap();
        assert_eq!(specs.len(), 1);
        assert_eq!(specs[0].usages, vec![Usage::Signing, Usage::Authentication]);
        assert_eq!(specs[0].groups, vec![DEFAULT_NODE_TOKEN_GROUP.to_owned()]);
    }

    #[test]
    fn entries_of_the_init_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubeadm.yaml");
        std::fs::write(
            &path,
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens:\n- token: abcdef.0123456789abcdef\n  ttl: 1h\n  usages: [authentication]\n  description: first\n- {}\n",
        )
        .unwrap();
        let specs = tokens(Some(&path)).unwrap();
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[0].id().as_str(), "abcdef");
        assert_eq!(specs[0].usages, vec![Usage::Authentication]);
        assert_eq!(specs[0].description, "first");
        assert_eq!(specs[1].groups, vec![DEFAULT_NODE_TOKEN_GROUP.to_owned()]);
        std::fs::write(
            &path,
            "kind: InitConfiguration\nbootstrapTokens:\n- token: NOPE\n",
        )
        .unwrap();
        let err = tokens(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("bootstrapTokens[].token"), "{err}");
    }
}
