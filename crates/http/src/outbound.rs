//! The one outbound HTTP client (DESIGN.md §9, docs/security/model.md
//! "Outbound calls"): what Tessera fetches from other servers (today the key
//! sets of federated issuers) goes through [`Outbound`], which
//!
//! - speaks `https` only, unless the allow-list names the host;
//! - refuses hosts that resolve to private, loopback, link-local, shared,
//!   multicast or reserved addresses, unless the allow-list names the host.
//!   The check is made on the addresses the connection will use (a resolver
//!   that drops them), so a name that resolves differently the second time
//!   gains nothing;
//! - follows at most three redirects, and only on the same host and scheme;
//! - bounds connecting, the whole exchange and the body's size;
//! - reads `Cache-Control: max-age` for the caller's cache.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tessera_oauth::federation::keys::{FetchError, FetchJson, Fetched};

/// Largest body read (a key set of a hundred RSA keys is about 60 KiB).
pub const MAX_BODY: usize = 256 * 1024;

/// The client's bounds and allow-list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundConfig {
    /// Hosts (names or IP addresses, compared case-insensitively) that may be
    /// reached over `http` and at private or loopback addresses: for
    /// development and tests.
    pub allow: Vec<String>,
    /// Time to connect.
    pub connect_timeout: Duration,
    /// Time for the whole exchange, body included.
    pub timeout: Duration,
    /// Whether same-host redirects are followed (key sets: yes; webhook
    /// deliveries: no, a redirect is a failed attempt, so a POST never turns
    /// into a GET that "succeeds").
    pub redirects: bool,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            connect_timeout: Duration::from_secs(3),
            timeout: Duration::from_secs(10),
            redirects: true,
        }
    }
}

/// The outbound client. The HTTP client itself (TLS roots and all) is built
/// on the first fetch, so an instance that never federates never pays for it.
#[derive(Clone)]
pub struct Outbound {
    client: Arc<std::sync::OnceLock<Result<reqwest::Client, String>>>,
    config: OutboundConfig,
    allow: Arc<Vec<String>>,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound").field("allow", &self.allow).finish_non_exhaustive()
    }
}

/// Whether `host` is on the allow-list.
fn allowed(allow: &[String], host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    allow.iter().any(|a| a.trim_start_matches('[').trim_end_matches(']').eq_ignore_ascii_case(host))
}

/// Whether `ip` is an address on the public internet: not private (RFC 1918,
/// RFC 4193), loopback, link-local, shared (RFC 6598), unspecified,
/// broadcast, multicast, documentation, benchmarking or reserved; an
/// IPv4-mapped or NAT64 IPv6 address by its IPv4 address.
#[must_use]
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            // 64:ff9b::/96, NAT64: the IPv4 address is the last 32 bits.
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return is_public_v4(Ipv4Addr::from(u32::from(s[6]) << 16 | u32::from(s[7])));
            }
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || s[0] == 0x2002 // 6to4, which embeds any IPv4 address
                || (v6.segments()[..7] == [0; 7])) // ::/96 (IPv4-compatible, deprecated)
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared, RFC 6598
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

/// Resolves names, keeping only the addresses the guard allows.
struct GuardedResolver {
    allow: Arc<Vec<String>>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = Arc::clone(&self.allow);
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let open = allowed(&allow, &host);
            let kept: Vec<SocketAddr> = addrs.into_iter().filter(|a| open || is_public(a.ip())).collect();
            if kept.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

impl Outbound {
    /// The client of `config`.
    #[must_use]
    pub fn new(config: &OutboundConfig) -> Self {
        Self {
            client: Arc::new(std::sync::OnceLock::new()),
            config: config.clone(),
            allow: Arc::new(config.allow.clone()),
        }
    }

    /// The HTTP client, built on first use.
    fn client(&self) -> Result<&reqwest::Client, FetchError> {
        self.client.get_or_init(|| Self::build(&self.config, &self.allow)).as_ref().map_err(|e| FetchError(e.clone()))
    }

    fn build(config: &OutboundConfig, allow: &Arc<Vec<String>>) -> Result<reqwest::Client, String> {
        reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .dns_resolver(Arc::new(GuardedResolver { allow: Arc::clone(allow) }))
            .redirect(if !config.redirects {
                reqwest::redirect::Policy::none()
            } else {
                reqwest::redirect::Policy::custom(|attempt| {
                    let first = attempt.previous().first();
                    let same = first.is_some_and(|f| {
                        f.host_str() == attempt.url().host_str()
                            && f.port_or_known_default() == attempt.url().port_or_known_default()
                            && f.scheme() == attempt.url().scheme()
                    });
                    if same && attempt.previous().len() <= 3 { attempt.follow() } else { attempt.stop() }
                })
            })
            .user_agent(concat!("tessera/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the outbound HTTP client: {e}"))
    }

    /// Checks `url` against the guards that need no resolution: scheme, and
    /// an IP address given literally.
    fn check(&self, url: &reqwest::Url) -> Result<(), FetchError> {
        let host = url.host_str().ok_or_else(|| FetchError("the URL names no host".into()))?;
        let open = allowed(&self.allow, host);
        match url.scheme() {
            "https" => {}
            "http" if open => {}
            _ => return Err(FetchError(format!("only https may be fetched from {host}"))),
        }
        if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>()
            && !open
            && !is_public(ip)
        {
            return Err(FetchError(format!("{host} is not a public address")));
        }
        Ok(())
    }
}

/// `max-age` of a `Cache-Control` header.
fn max_age(headers: &reqwest::header::HeaderMap) -> Option<chrono::Duration> {
    let value = headers.get(reqwest::header::CACHE_CONTROL)?.to_str().ok()?;
    value.split(',').find_map(|d| {
        let (name, secs) = d.trim().split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("max-age") {
            return None;
        }
        secs.trim().trim_matches('"').parse::<i64>().ok().map(chrono::Duration::seconds)
    })
}

#[async_trait]
impl FetchJson for Outbound {
    async fn get(&self, url: &str) -> Result<Fetched, FetchError> {
        let parsed = reqwest::Url::parse(url).map_err(|_| FetchError("not a URL".into()))?;
        self.check(&parsed)?;
        let host = parsed.host_str().unwrap_or_default().to_owned();
        let mut res = self
            .client()?
            .get(parsed)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| FetchError(format!("fetching from {host} failed: {}", root_cause(&e))))?;
        if res.status() != reqwest::StatusCode::OK {
            return Err(FetchError(format!("{host} answered {}", res.status().as_u16())));
        }
        if res.content_length().is_some_and(|n| n > MAX_BODY as u64) {
            return Err(FetchError(format!("the answer from {host} exceeds {} KiB", MAX_BODY / 1024)));
        }
        let max_age = max_age(res.headers());
        let mut body = Vec::new();
        while let Some(chunk) =
            res.chunk().await.map_err(|e| FetchError(format!("reading from {host} failed: {}", root_cause(&e))))?
        {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(FetchError(format!("the answer from {host} exceeds {} KiB", MAX_BODY / 1024)));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched { body, max_age })
    }
}

/// Largest part of a webhook receiver's answer read (and dropped).
const MAX_WEBHOOK_ANSWER: usize = 64 * 1024;

#[async_trait]
impl tessera_core::webhooks::WebhookSender for Outbound {
    fn check(&self, url: &str) -> Result<(), String> {
        let parsed = reqwest::Url::parse(url).map_err(|_| "not a URL".to_owned())?;
        self.check(&parsed).map_err(|e| e.0)
    }

    /// POSTs a delivery under the same guards as every fetch; with
    /// `redirects` off (the webhook client), a 3xx answer is the attempt's
    /// result.
    async fn post(&self, url: &str, headers: &[(&'static str, String)], body: &str) -> Result<u16, String> {
        let parsed = reqwest::Url::parse(url).map_err(|_| "not a URL".to_owned())?;
        self.check(&parsed).map_err(|e| e.0)?;
        let host = parsed.host_str().unwrap_or_default().to_owned();
        let mut request = self.client().map_err(|e| e.0)?.post(parsed).body(body.to_owned());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let mut res = request.send().await.map_err(|e| format!("sending to {host} failed: {}", root_cause(&e)))?;
        let status = res.status().as_u16();
        // Read a bounded part of the answer so the connection can be reused;
        // its content is not kept.
        let mut read = 0;
        while read < MAX_WEBHOOK_ANSWER {
            match res.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                _ => break,
            }
        }
        Ok(status)
    }
}

/// The innermost cause of a client error (reqwest's own message is generic).
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test: a failed step must fail it")]

    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2001:db8::1",
            "2002:7f00:1::",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["140.82.112.3", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn cache_control_max_age_is_read() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(reqwest::header::CACHE_CONTROL, "public, max-age=3600, must-revalidate".parse().unwrap());
        assert_eq!(max_age(&h), Some(chrono::Duration::hours(1)));
        h.insert(reqwest::header::CACHE_CONTROL, "no-store".parse().unwrap());
        assert_eq!(max_age(&h), None);
    }

    async fn fetch(allow: &[&str], url: &str) -> Result<Fetched, FetchError> {
        let config = OutboundConfig { allow: allow.iter().map(|s| (*s).to_owned()).collect(), ..Default::default() };
        Outbound::new(&config).get(url).await
    }

    /// A loopback server answering every request with `answer` (raw HTTP).
    async fn serve(answer: String) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else { return };
                let answer = answer.clone();
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
                    let mut buf = [0u8; 4096];
                    let _ = socket.read(&mut buf).await;
                    let _ = socket.write_all(answer.as_bytes()).await;
                });
            }
        });
        addr
    }

    fn ok(body: &str, extra: &str) -> String {
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra}connection: close\r\n\r\n{body}",
            body.len()
        )
    }

    #[tokio::test]
    async fn loopback_and_http_need_the_allow_list() {
        let addr = serve(ok(r#"{"keys":[]}"#, "cache-control: max-age=600\r\n")).await;
        let url = format!("http://{addr}/jwks");
        let refused = fetch(&[], &url).await.unwrap_err();
        assert!(refused.0.contains("only https"), "{refused}");
        let https = format!("https://{addr}/jwks");
        let refused = fetch(&[], &https).await.unwrap_err();
        assert!(refused.0.contains("not a public address"), "{refused}");
        let fetched = fetch(&["127.0.0.1"], &url).await.unwrap();
        assert_eq!(fetched.body, br#"{"keys":[]}"#);
        assert_eq!(fetched.max_age, Some(chrono::Duration::minutes(10)));
        // A name is checked on the addresses it resolves to.
        let by_name = format!("https://localhost:{}/jwks", addr.port());
        let refused = fetch(&[], &by_name).await.unwrap_err();
        assert!(refused.0.contains("no public address"), "{refused}");
    }

    #[tokio::test]
    async fn redirects_to_other_hosts_and_large_bodies_are_refused() {
        let elsewhere = serve(ok("{}", "")).await;
        let redirect = format!(
            "HTTP/1.1 302 Found\r\nlocation: http://localhost:{}/jwks\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            elsewhere.port()
        );
        let addr = serve(redirect).await;
        let err = fetch(&["127.0.0.1", "localhost"], &format!("http://{addr}/jwks")).await.unwrap_err();
        assert!(err.0.contains("answered 302"), "{err}");

        let big = serve(ok(&"x".repeat(MAX_BODY + 1), "")).await;
        let err = fetch(&["127.0.0.1"], &format!("http://{big}/jwks")).await.unwrap_err();
        assert!(err.0.contains("exceeds"), "{err}");
        let missing = serve("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into()).await;
        let err = fetch(&["127.0.0.1"], &format!("http://{missing}/jwks")).await.unwrap_err();
        assert!(err.0.contains("answered 404"), "{err}");
    }
}
