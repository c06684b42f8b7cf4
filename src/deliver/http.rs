//! One POST (or PUT, GET) in bounded time: a connect timeout, a request
//! timeout, a few attempts with backoff, and never past the delivery
//! stage's deadline. What came back is sorted into delivered, refused for
//! good (a 4xx: sending it again cannot help) and failed for now (kept for
//! the next run).

use std::time::{Duration, Instant};

/// How long delivery may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// To open a connection.
    pub connect: Duration,
    /// One attempt, from connecting to the last byte of the answer.
    pub request: Duration,
    /// Attempts per request (the first included).
    pub attempts: u32,
    /// The whole delivery stage, every target at once.
    pub stage: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            connect: Duration::from_secs(3),
            request: Duration::from_secs(10),
            attempts: 3,
            stage: Duration::from_secs(30),
        }
    }
}

/// What became of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx, with the answer's body (cut to 64 KiB).
    Done(Vec<u8>),
    /// Refused for good (a 4xx other than 408 and 429, a redirect): why.
    Refused(String),
    /// Not delivered now (no connection, a timeout, a 5xx, the deadline):
    /// why. The next run tries again.
    Failed(String),
}

/// The most of an answer read: enough for an id or an error message.
const ANSWER_LIMIT: u64 = 64 * 1024;

/// A client for one delivery stage.
pub struct Client {
    agent: ureq::Agent,
    limits: Limits,
    deadline: Instant,
}

/// A request to make.
pub struct Request<'a> {
    /// `POST`, `PUT` or `GET`.
    pub method: &'a str,
    /// Where to.
    pub url: &'a str,
    /// Extra headers (authorization).
    pub headers: &'a [(String, String)],
    /// A JSON body (ignored for `GET`).
    pub body: &'a [u8],
}

impl Client {
    /// A client whose requests all end by `limits.stage` from now.
    pub fn new(limits: Limits) -> Client {
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(limits.connect))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("logburst/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Client {
            agent,
            limits,
            deadline: Instant::now() + limits.stage,
        }
    }

    /// Makes `r`, trying again (after 0.5 s, then 1 s, …) while it failed
    /// for now, attempts remain and the deadline allows.
    pub fn send(&self, r: &Request) -> Outcome {
        let mut pause = Duration::from_millis(500);
        let mut last = Outcome::Failed("not tried: the delivery stage's time was up".into());
        for attempt in 0..self.limits.attempts.max(1) {
            if attempt > 0 {
                if Instant::now() + pause >= self.deadline {
                    break;
                }
                std::thread::sleep(pause);
                pause *= 2;
            }
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            last = self.once(r, self.limits.request.min(left));
            if !matches!(last, Outcome::Failed(_)) {
                break;
            }
        }
        last
    }

    fn once(&self, r: &Request, timeout: Duration) -> Outcome {
        let answer = match r.method {
            "GET" => {
                let mut b = self.agent.get(r.url);
                for (k, v) in r.headers {
                    b = b.header(k.as_str(), v.as_str());
                }
                b.config().timeout_global(Some(timeout)).build().call()
            }
            method => {
                let mut b = if method == "PUT" {
                    self.agent.put(r.url)
                } else {
                    self.agent.post(r.url)
                };
                b = b.header("Content-Type", "application/json");
                for (k, v) in r.headers {
                    b = b.header(k.as_str(), v.as_str());
                }
                b.config()
                    .timeout_global(Some(timeout))
                    .build()
                    .send(r.body)
            }
        };
        let mut answer = match answer {
            Ok(a) => a,
            Err(e) => return Outcome::Failed(crate::escape::terminal(&e.to_string())),
        };
        let status = answer.status().as_u16();
        let body = answer
            .body_mut()
            .with_config()
            .limit(ANSWER_LIMIT)
            .read_to_vec()
            .unwrap_or_default();
        let said = || {
            let text = crate::escape::line_sample(&body, 200);
            if text.is_empty() {
                format!("HTTP {status}")
            } else {
                format!("HTTP {status}: {text}")
            }
        };
        match status {
            200..=299 => Outcome::Done(body),
            408 | 429 | 500..=599 => Outcome::Failed(said()),
            300..=399 => {
                Outcome::Refused(format!("{} (a redirect: give the URL it names)", said()))
            }
            _ => Outcome::Refused(said()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    /// A server on loopback that answers each connection with `answers` in
    /// turn, and the requests it read.
    fn serve(answers: Vec<&'static str>) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", l.local_addr().unwrap());
        let h = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for a in answers {
                let (mut s, _) = l.accept().unwrap();
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut buf = vec![0; 65536];
                let mut got = Vec::new();
                while !String::from_utf8_lossy(&got).contains("\r\n\r\n") {
                    let n = s.read(&mut buf).unwrap();
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&buf[..n]);
                }
                seen.push(String::from_utf8_lossy(&got).into_owned());
                s.write_all(a.as_bytes()).unwrap();
            }
            seen
        });
        (url, h)
    }

    fn quick() -> Limits {
        Limits {
            connect: Duration::from_secs(2),
            request: Duration::from_secs(2),
            attempts: 3,
            stage: Duration::from_secs(10),
        }
    }

    #[test]
    fn a_5xx_is_tried_again_and_a_4xx_is_not() {
        let ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        let busy = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy";
        let (url, h) = serve(vec![busy, ok]);
        let c = Client::new(quick());
        let r = Request {
            method: "POST",
            url: &url,
            headers: &[],
            body: b"{}",
        };
        assert_eq!(c.send(&r), Outcome::Done(b"ok".to_vec()));
        assert_eq!(h.join().unwrap().len(), 2);

        let bad =
            "HTTP/1.1 400 Bad Request\r\nContent-Length: 7\r\nConnection: close\r\n\r\nno \x1b[31m";
        let (url, h) = serve(vec![bad]);
        let r = Request { url: &url, ..r };
        match c.send(&r) {
            Outcome::Refused(why) => {
                assert!(why.starts_with("HTTP 400: no"), "{why}");
                assert!(!why.contains('\x1b'), "{why}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(h.join().unwrap().len(), 1);
    }

    #[test]
    fn a_refused_connection_fails_for_now() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/");
        let c = Client::new(Limits {
            attempts: 2,
            ..quick()
        });
        let r = Request {
            method: "POST",
            url: &url,
            headers: &[],
            body: b"{}",
        };
        assert!(matches!(c.send(&r), Outcome::Failed(_)));
    }
}
