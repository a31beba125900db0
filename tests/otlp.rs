//! `examples/otlp.rs` sends real OTLP: a loopback HTTP server takes its requests, and the
//! bodies are decoded with the OTLP protobuf types, not with the code that wrote them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::{status::StatusCode, Span};
use prost::Message as _;

#[path = "../examples/otlp.rs"]
#[allow(dead_code)]
mod example;

/// Serves `max` requests at most, each on its own connection, until `deadline`: the
/// bodies of the POSTs to `/v1/traces`.
fn serve(listener: TcpListener, max: usize, sent: mpsc::Sender<(String, Vec<u8>)>) {
    listener.set_nonblocking(false).unwrap();
    for stream in listener.incoming().take(max) {
        let Ok(mut stream) = stream else { return };
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        let mut length = 0usize;
        let mut content_type = String::new();
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap(),
                "content-type" => content_type = value.trim().to_owned(),
                _ => {}
            }
        }
        assert!(length <= 1 << 20, "a bounded body");
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        assert!(
            request_line.starts_with("POST /v1/traces "),
            "{request_line}"
        );
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .unwrap();
        if sent.send((content_type, body)).is_err() {
            return;
        }
    }
}

fn attribute<'a>(span: &'a Span, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

#[test]
fn the_example_exports_the_span_tree_over_otlp_http() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}/v1/traces", listener.local_addr().unwrap());
    let (sent, received) = mpsc::channel();
    std::thread::spawn(move || serve(listener, 64, sent));

    example::main_with(&endpoint).unwrap();

    let mut spans = Vec::new();
    while let Ok((content_type, body)) = received.recv_timeout(Duration::from_millis(500)) {
        assert_eq!(content_type, "application/x-protobuf");
        let request = ExportTraceServiceRequest::decode(&body[..]).unwrap();
        for resource in request.resource_spans {
            for scope in resource.scope_spans {
                spans.extend(scope.spans);
            }
        }
    }
    let mut names: Vec<_> = spans.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "chat gpt-4o",
            "execute_tool crm.lookup",
            "execute_tool http.get",
            "execute_tool web.search",
            "invoke_agent research-agent",
            "invoke_agent support-agent",
        ]
    );
    let by_name = |name: &str| spans.iter().find(|s| s.name == name).unwrap();
    let run = by_name("invoke_agent support-agent");
    let research = by_name("invoke_agent research-agent");
    let failed = by_name("execute_tool http.get");
    let chat = by_name("chat gpt-4o");
    for child in [by_name("execute_tool crm.lookup"), failed, chat, research] {
        assert_eq!(child.parent_span_id, run.span_id, "{}", child.name);
        assert_eq!(child.trace_id, run.trace_id, "{}", child.name);
    }
    assert_eq!(
        by_name("execute_tool web.search").parent_span_id,
        research.span_id
    );
    assert_eq!(
        failed.status.as_ref().map(|s| s.code),
        Some(StatusCode::Error as i32)
    );
    assert_eq!(
        attribute(failed, "error.type"),
        Some(&Value::StringValue("RateLimited".into()))
    );
    assert_eq!(
        attribute(run, "error.type"),
        Some(&Value::StringValue("tool_error".into()))
    );
    assert_eq!(
        attribute(chat, "gen_ai.usage.input_tokens"),
        Some(&Value::IntValue(1200))
    );
    assert_eq!(
        attribute(chat, "gen_ai.usage.cost.amount"),
        Some(&Value::DoubleValue(0.0038))
    );
}
