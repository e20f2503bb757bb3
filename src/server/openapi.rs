//! The OpenAPI 3.0 description of the HTTP API, served at `/openapi.json`. Hand-written (no
//! derive machinery); a test checks that it lists exactly the routes of [`super::routes`] with
//! their methods, and the integration tests call every documented route. Not here: the handlers.

use serde_json::{json, Value};

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

fn json_response(description: &str, schema: &str) -> Value {
    json!({
        "description": description,
        "headers": { "X-Redflag-Watchlists": { "$ref": "#/components/headers/Watchlists" } },
        "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } }
    })
}

/// The document.
pub fn document() -> Value {
    let unauthorized = error_response("Missing or wrong API key (`Authorization: Bearer <key>`).");
    let not_ready = error_response("The watchlists are still loading, the request timed out, or (with --store) the decision store could not apply decisions or record the call.");
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "redflag",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Entity screening for export compliance: clear, review or block, with the evidence. Every response names the watchlists and versions it was made against (`X-Redflag-Watchlists` header; `watchlists` field in JSON bodies of /v1 and /readyz)."
        },
        "paths": {
            "/healthz": { "get": {
                "summary": "The process is up.",
                "responses": { "200": { "description": "Alive.", "content": { "application/json": { "schema": { "type": "object", "properties": { "status": { "type": "string", "enum": ["ok"] } } } } } } }
            } },
            "/readyz": { "get": {
                "summary": "Ready to screen: the watchlists are loaded.",
                "responses": {
                    "200": json_response("Ready.", "Ready"),
                    "503": { "description": "Still loading.", "content": { "application/json": { "schema": { "type": "object", "properties": { "status": { "type": "string", "enum": ["loading"] }, "error": { "type": "string" } } } } } }
                }
            } },
            "/openapi.json": { "get": {
                "summary": "This document.",
                "responses": { "200": { "description": "OpenAPI 3.0 JSON.", "content": { "application/json": { "schema": { "type": "object" } } } } }
            } },
            "/v1/screen": { "post": {
                "summary": "Screen parties against the watchlists.",
                "description": "One result per party, in request order, in the shape of a `redflag screen --format jsonl` line plus the caller's `reference`. `decision` is the worst party decision.",
                "security": [{ "bearer": [] }],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ScreenRequest" } } } },
                "responses": {
                    "200": json_response("Screened.", "ScreenResponse"),
                    "400": error_response("Malformed JSON (a syntax error); the message names the line and column."),
                    "401": unauthorized,
                    "413": error_response("The body is larger than --max-body."),
                    "415": error_response("The body is not `Content-Type: application/json`."),
                    "422": error_response("Invalid content: a missing or mistyped field, no parties, more than --max-parties, a name or address over 1,000 characters, or an unknown `kind`."),
                    "503": not_ready
                }
            } },
            "/v1/check": { "post": {
                "summary": "Check one shipment: the decision of its worst party or rule, with the evidence.",
                "description": "The body is the shipment document `redflag check` reads (schemas/shipment.schema.json); the response is what `redflag check --format json` prints.",
                "security": [{ "bearer": [] }],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["parties"], "description": "A shipment document: id, parties [{role, name, address, country}], hs_codes, route, destination." } } } },
                "responses": {
                    "200": json_response("Checked.", "CheckResponse"),
                    "400": error_response("Malformed JSON."),
                    "401": unauthorized,
                    "413": error_response("The body is larger than --max-body."),
                    "422": error_response("Invalid shipment: no party, an unknown country or HS code, an unknown field, more than --max-parties."),
                    "503": not_ready
                }
            } },
            "/v1/watchlists": { "get": {
                "summary": "The loaded watchlists.",
                "security": [{ "bearer": [] }],
                "responses": {
                    "200": json_response("The lists in use.", "Watchlists"),
                    "401": unauthorized,
                    "503": not_ready
                }
            } },
            "/v1/admin/reload": { "post": {
                "summary": "Reload the watchlists from the same paths (as SIGHUP does) and swap them in atomically.",
                "description": "Requests in flight finish on the old lists. A failed reload keeps the old lists and says so (`reloaded: false`, `error`).",
                "security": [{ "bearer": [] }],
                "responses": {
                    "200": json_response("Reloaded.", "Reload"),
                    "401": unauthorized,
                    "500": json_response("The reload failed; the old lists stay in use.", "Reload")
                }
            } }
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer", "description": "The API key (REDFLAG_API_KEY or --api-key-file)." } },
            "headers": { "Watchlists": { "description": "The lists a response was made against: `name=version` pairs, comma-separated.", "schema": { "type": "string" } } },
            "schemas": {
                "CheckResponse": { "type": "object", "required": ["decision", "parties", "flags"], "properties": { "id": { "type": "string" }, "decision": { "type": "string", "enum": ["clear", "review", "block", "error"] }, "parties": { "type": "array", "items": { "type": "object" } }, "flags": { "type": "array", "items": { "type": "object", "required": ["rule", "severity", "evidence"] } }, "errors": { "type": "array" }, "watchlists": { "$ref": "#/components/schemas/ListVersions" } } },
                "Error": { "type": "object", "required": ["error"], "properties": { "error": { "type": "string" }, "watchlists": { "$ref": "#/components/schemas/ListVersions" } } },
                "ListVersions": { "type": "array", "items": { "type": "object", "required": ["name", "version"], "properties": { "name": { "type": "string" }, "version": { "type": "string" } } } },
                "Ready": { "type": "object", "properties": { "status": { "type": "string", "enum": ["ready"] }, "watchlists": { "$ref": "#/components/schemas/ListVersions" } } },
                "Address": { "type": "object", "additionalProperties": false, "properties": {
                    "text": { "type": "string" }, "city": { "type": "string" }, "postal_code": { "type": "string" },
                    "region": { "type": "string" }, "country": { "type": "string" } } },
                "Party": { "type": "object", "required": ["name"], "additionalProperties": false, "properties": {
                    "name": { "type": "string" },
                    "address": { "oneOf": [{ "type": "string" }, { "$ref": "#/components/schemas/Address" }] },
                    "country": { "type": "string", "description": "ISO code or name in any language." },
                    "role": { "type": "string", "description": "consignee, end_user, ...; `party` when absent." },
                    "kind": { "type": "string", "enum": ["person", "organization", "vessel", "aircraft"] },
                    "reference": { "description": "Any JSON value; echoed back." } } },
                "ScreenRequest": { "type": "object", "required": ["parties"], "additionalProperties": false, "properties": {
                    "parties": { "type": "array", "minItems": 1, "items": { "$ref": "#/components/schemas/Party" } } } },
                "Decision": { "type": "string", "enum": ["clear", "review", "block", "error"] },
                "Hit": { "type": "object", "properties": {
                    "entity_id": { "type": "string" }, "entity_name": { "type": "string" }, "matched_name": { "type": "string" },
                    "score": { "type": "number" }, "kind": { "type": "string", "enum": ["name", "address", "ownership"] },
                    "explanation": { "type": "string" }, "list": { "type": "string" }, "list_version": { "type": "string" },
                    "listed": { "type": "boolean" }, "decision": { "$ref": "#/components/schemas/Decision" },
                    "applied": { "type": "object", "description": "With --store: the analyst decision applied to this hit (a false positive makes it clear, a true match block).", "properties": {
                        "id": { "type": "string" }, "disposition": { "type": "string", "enum": ["false-positive", "true-match", "escalated"] },
                        "reason": { "type": "string" }, "by": { "type": "string" }, "decided_at": { "type": "string" }, "expires_at": { "type": "string" } } } } },
                "PartyResult": { "type": "object", "required": ["row", "party", "name", "decision", "hits"], "properties": {
                    "row": { "type": "integer", "description": "1-based position in the request." },
                    "party": { "type": "string", "description": "The role." },
                    "name": { "type": "string" },
                    "decision": { "$ref": "#/components/schemas/Decision" },
                    "hits": { "type": "array", "items": { "$ref": "#/components/schemas/Hit" } },
                    "error": { "type": "string" },
                    "reference": { "description": "The request's reference, unchanged." } } },
                "ScreenResponse": { "type": "object", "properties": {
                    "decision": { "$ref": "#/components/schemas/Decision" },
                    "results": { "type": "array", "items": { "$ref": "#/components/schemas/PartyResult" } },
                    "watchlists": { "$ref": "#/components/schemas/ListVersions" } } },
                "Watchlists": { "type": "object", "properties": { "watchlists": { "type": "array", "items": { "type": "object", "properties": {
                    "name": { "type": "string" }, "format": { "type": "string" }, "version": { "type": "string" },
                    "published": { "type": "string", "nullable": true }, "content_hash": { "type": "string" },
                    "entity_count": { "type": "integer" } } } } } },
                "Reload": { "type": "object", "properties": {
                    "reloaded": { "type": "boolean" },
                    "watchlists": { "$ref": "#/components/schemas/ListVersions" },
                    "previous": { "$ref": "#/components/schemas/ListVersions" },
                    "error": { "type": "string" },
                    "elapsed_ms": { "type": "integer" } } }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::document;
    use crate::server::routes;

    #[test]
    fn every_route_is_documented_and_every_documented_route_exists() {
        let doc = document();
        let paths = doc["paths"].as_object().unwrap();
        let table: Vec<(String, String)> = routes()
            .iter()
            .map(|r| (r.path.to_string(), r.method.as_str().to_lowercase()))
            .collect();
        for (path, method) in &table {
            let op = &paths
                .get(path)
                .unwrap_or_else(|| panic!("{path} undocumented"))[method];
            assert!(op.is_object(), "{method} {path} undocumented");
            assert_eq!(
                op.get("security").is_some(),
                path.starts_with("/v1/"),
                "{method} {path}: security must match the key requirement"
            );
        }
        for (path, ops) in paths {
            for method in ops.as_object().unwrap().keys() {
                assert!(
                    table.contains(&(path.clone(), method.clone())),
                    "{method} {path} documented but not routed"
                );
            }
        }
    }
}
