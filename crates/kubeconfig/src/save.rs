//! Writing: deterministic YAML (or JSON) that kubectl reads back to the same data.

use std::path::Path;

use kubetrust_fs::Mode;

use crate::{Config, Error};

impl Config {
    /// The kubeconfig as YAML, byte for byte what client-go writes for the same data (keys
    /// sorted, one-line base64), plus any fields client-go does not know.
    pub fn to_yaml(&self) -> Result<String, Error> {
        Ok(crate::yaml::to_string(&self.to_json_value()?))
    }

    /// The kubeconfig as JSON indented like `kubectl config view -o json`, fields in
    /// client-go's order.
    pub fn to_json(&self) -> Result<String, Error> {
        crate::json::to_string(self).map_err(|e| Error::Convert(e.to_string()))
    }

    /// The kubeconfig as a JSON value.
    pub fn to_json_value(&self) -> Result<serde_json::Value, Error> {
        serde_json::to_value(self).map_err(|e| Error::Convert(e.to_string()))
    }

    /// Writes the kubeconfig as YAML to `path`, atomically, with mode 0600 (it may hold
    /// credentials). The parent directory must exist. A crash leaves the old file or the new.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let yaml = self.to_yaml()?;
        kubetrust_fs::write_atomic(path.as_ref(), yaml.as_bytes(), Mode::PRIVATE).map_err(Error::Write)
    }
}
