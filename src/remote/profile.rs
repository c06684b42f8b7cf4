//! The AWS shared configuration files, as the AWS CLI and SDKs read them:
//! the profile `AWS_PROFILE` names (else `default`) in the credentials
//! file (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`,
//! sections `[name]`) and the config file (`AWS_CONFIG_FILE`, else
//! `~/.aws/config`, sections `[profile name]` or `[default]`).
//!
//! Static keys, a session token, the region and the endpoint are taken
//! from it; the environment's own variables win, as they do in the AWS
//! tools. Profiles that get their keys by running something (`role_arn`,
//! `sso_session`, `credential_process`) are not run: the error says how
//! to export their keys instead.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// One profile's settings, by name (`aws_access_key_id`, `region`, …).
type Section = BTreeMap<String, String>;

/// The settings a profile gives, as object_store's S3 configuration
/// names them, for the ones the environment leaves unset; `get` reads the
/// environment. An error when `AWS_PROFILE` names a profile that is not
/// there, or the profile's keys come from something logburst does not run.
pub fn settings(get: &dyn Fn(&str) -> Option<String>) -> Result<Vec<(String, String)>, String> {
    let home = get("HOME").map(PathBuf::from);
    let file = |var: &str, name: &str| {
        get(var)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".aws").join(name)))
    };
    let read = |path: Option<PathBuf>| {
        path.and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default()
    };
    let credentials = read(file("AWS_SHARED_CREDENTIALS_FILE", "credentials"));
    let config = read(file("AWS_CONFIG_FILE", "config"));
    let named = get("AWS_PROFILE").filter(|p| !p.is_empty());
    let name = named.clone().unwrap_or_else(|| "default".into());
    let from_credentials = section(&credentials, &name, false);
    let from_config = section(&config, &name, true);
    if from_credentials.is_none() && from_config.is_none() {
        return match named {
            Some(p) => Err(format!(
                "AWS_PROFILE={p}: no such profile in the AWS credentials or config file"
            )),
            None => Ok(Vec::new()),
        };
    }
    // The credentials file's keys over the config file's, as in the SDKs.
    let mut profile = from_config.unwrap_or_default();
    profile.extend(from_credentials.unwrap_or_default());
    let unset = |vars: &[&str]| vars.iter().all(|v| get(v).is_none_or(|s| s.is_empty()));
    let mut out = Vec::new();
    let keys_in_env = !unset(&["AWS_ACCESS_KEY_ID"]);
    let others = unset(&[
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ]);
    if !keys_in_env && others {
        match (
            profile.get("aws_access_key_id"),
            profile.get("aws_secret_access_key"),
        ) {
            (Some(id), Some(secret)) => {
                out.push(("aws_access_key_id".into(), id.clone()));
                out.push(("aws_secret_access_key".into(), secret.clone()));
                if let Some(token) = profile.get("aws_session_token") {
                    out.push(("aws_token".into(), token.clone()));
                }
            }
            _ => {
                let how = [
                    "role_arn",
                    "sso_session",
                    "sso_start_url",
                    "credential_process",
                ]
                .into_iter()
                .find(|k| profile.contains_key(*k));
                if let Some(how) = how {
                    return Err(format!(
                        "the AWS profile {name} gets its keys by {how}, which logburst does not run: export them (eval \"$(aws configure export-credentials --profile {name} --format env)\")"
                    ));
                }
            }
        }
    }
    if unset(&["AWS_REGION", "AWS_DEFAULT_REGION"]) {
        if let Some(region) = profile.get("region") {
            out.push(("aws_region".into(), region.clone()));
        }
    }
    if unset(&["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT"]) {
        if let Some(endpoint) = profile.get("endpoint_url") {
            out.push(("aws_endpoint".into(), endpoint.clone()));
        }
    }
    Ok(out)
}

/// The settings of profile `name` in an INI text, `None` when it has no
/// section; the config file names it `[profile name]` (but `[default]`).
/// Indented lines (a nested block such as `s3 =`) and comments are
/// skipped; a setting given twice keeps its last value.
fn section(text: &str, name: &str, config: bool) -> Option<Section> {
    let mut found: Option<Section> = None;
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(head) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let head = head.trim();
            let this = match head.split_once(char::is_whitespace) {
                Some(("profile", rest)) if config => rest.trim(),
                Some(_) => "",
                None if !config || head == "default" => head,
                None => "",
            };
            inside = !this.is_empty() && this == name;
            if inside {
                found.get_or_insert_with(Section::new);
            }
            continue;
        }
        if let (true, Some((k, v))) = (inside, line.split_once('=')) {
            let v = v.trim();
            if !v.is_empty() {
                found
                    .get_or_insert_with(Section::new)
                    .insert(k.trim().to_ascii_lowercase(), v.to_string());
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREDENTIALS: &str = "\
# comment
[default]
aws_access_key_id = AKIDEFAULT
aws_secret_access_key = secret-default

[logs]
aws_access_key_id=AKILOGS
aws_secret_access_key=secret-logs
aws_session_token = token-logs
";

    const CONFIG: &str = "\
[default]
region = eu-west-1

[profile logs]
region = us-east-2
endpoint_url = http://127.0.0.1:9000
s3 =
  addressing_style = path

[profile assumed]
role_arn = arn:aws:iam::123456789012:role/read-logs
source_profile = default

[sso-session corp]
sso_region = us-east-1
";

    fn with(files: bool, vars: &[(&str, &str)]) -> Result<Vec<(String, String)>, String> {
        let dir = tempfile::tempdir().unwrap();
        let aws = dir.path().join(".aws");
        std::fs::create_dir(&aws).unwrap();
        if files {
            std::fs::write(aws.join("credentials"), CREDENTIALS).unwrap();
            std::fs::write(aws.join("config"), CONFIG).unwrap();
        }
        let home = dir.path().display().to_string();
        let get = |k: &str| {
            if k == "HOME" {
                return Some(home.clone());
            }
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        };
        settings(&get)
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_default_profile_gives_keys_and_region() {
        assert_eq!(
            with(true, &[]).unwrap(),
            pairs(&[
                ("aws_access_key_id", "AKIDEFAULT"),
                ("aws_secret_access_key", "secret-default"),
                ("aws_region", "eu-west-1"),
            ])
        );
    }

    #[test]
    fn a_named_profile_gives_token_and_endpoint_but_not_its_nested_block() {
        assert_eq!(
            with(true, &[("AWS_PROFILE", "logs")]).unwrap(),
            pairs(&[
                ("aws_access_key_id", "AKILOGS"),
                ("aws_secret_access_key", "secret-logs"),
                ("aws_token", "token-logs"),
                ("aws_region", "us-east-2"),
                ("aws_endpoint", "http://127.0.0.1:9000"),
            ])
        );
    }

    #[test]
    fn the_environment_wins() {
        let env = [
            ("AWS_PROFILE", "logs"),
            ("AWS_ACCESS_KEY_ID", "AKIENV"),
            ("AWS_REGION", "ap-south-1"),
        ];
        assert_eq!(
            with(true, &env).unwrap(),
            pairs(&[("aws_endpoint", "http://127.0.0.1:9000")])
        );
    }

    #[test]
    fn a_missing_or_running_profile_is_an_error() {
        let e = with(true, &[("AWS_PROFILE", "nope")]).unwrap_err();
        assert!(e.contains("AWS_PROFILE=nope: no such profile"), "{e}");
        let e = with(true, &[("AWS_PROFILE", "assumed")]).unwrap_err();
        assert!(
            e.contains("by role_arn") && e.contains("--profile assumed"),
            "{e}"
        );
        // No files and no profile named: nothing to add, no error.
        assert_eq!(with(false, &[]).unwrap(), vec![]);
        // A profile in the config file only is no credentials-file section.
        assert_eq!(section(CONFIG, "logs", false), None);
        assert_eq!(section(CREDENTIALS, "logs", true), None);
        assert!(section(CONFIG, "corp", true).is_none());
    }
}
