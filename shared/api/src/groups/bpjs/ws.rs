//! The WS RS endpoints Mobile JKN (BPJS) calls on the clinic: `/api/bpjs/ws/{clinic}/…`.
//! BPJS's envelope and codes, never the seed's: every answer is HTTP 200 with
//! `{"response": …, "metadata": {"message": "Ok", "code": 200}}`, a refusal `code` 201 with
//! BPJS-style message, a patient the clinic does not know 202 (Mobile JKN then calls
//! `pasienbaru`). Token: `GET …/token` with `x-username` / `x-password`; then `x-token` and
//! `x-username` on every call.
use antrean_domain::bpjs::config::BpjsConfig;
use antrean_domain::bpjs::ws::{self, Refusal, WsResult};
use antrean_domain::Tenant;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(token))
        .routes(routes!(status))
        .routes(routes!(ambil))
        .routes(routes!(sisa))
        .routes(routes!(batal))
        .routes(routes!(checkin))
        .routes(routes!(pasien_baru))
}

/// BPJS's envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct WsEnvelope {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub response: Option<Value>,
    #[schema(value_type = Object)]
    pub metadata: Value,
}

pub fn answer(code: i64, message: &str, response: Option<Value>) -> Json<WsEnvelope> {
    Json(WsEnvelope {
        response,
        metadata: json!({"message": message, "code": code}),
    })
}

pub fn refused(r: Refusal) -> Json<WsEnvelope> {
    answer(r.code, &r.message, None)
}

pub fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().trim()
}

pub fn tenant_of(clinic: &str) -> WsResult<Tenant> {
    Tenant::parse(clinic).map_err(|_| Refusal {
        code: 201,
        message: "Faskes tidak ditemukan".into(),
    })
}

/// `x-token` + `x-username`, then the body (JSON; anything else is refused in BPJS's terms).
pub async fn authed(s: &AppState, clinic: &str, h: &HeaderMap, body: &Bytes) -> WsResult<(Tenant, BpjsConfig, Value)> {
    let tenant = tenant_of(clinic)?;
    let config = ws::authenticate(&s.deps, &tenant, header(h, "x-username"), header(h, "x-token")).await?;
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice::<Value>(body).map_err(|_| Refusal {
            code: 201,
            message: "Format request tidak valid".into(),
        })?
    };
    Ok((tenant, config, body))
}

pub fn done(r: WsResult<Option<Value>>) -> Json<WsEnvelope> {
    match r {
        Ok(response) => answer(200, "Ok", response),
        Err(e) => refused(e),
    }
}

#[utoipa::path(get, path = "/api/bpjs/ws/{clinic}/token", tag = "BPJS WS RS", params(("clinic" = String, Path), ("x-username" = String, Header), ("x-password" = String, Header)),
    responses((status = 200, body = WsEnvelope, description = "`{response:{token}, metadata}`; wrong user: code 201")))]
async fn token(State(s): State<AppState>, Path(clinic): Path<String>, h: HeaderMap) -> Json<WsEnvelope> {
    let r = async {
        let tenant = tenant_of(&clinic)?;
        let token = ws::token(&s.deps, &tenant, header(&h, "x-username"), header(&h, "x-password")).await?;
        Ok(Some(json!({"token": token})))
    };
    done(r.await)
}

#[utoipa::path(post, path = "/api/bpjs/ws/{clinic}/statusantrean", tag = "BPJS WS RS", params(("clinic" = String, Path), ("x-token" = String, Header), ("x-username" = String, Header)),
    request_body(content = Object, description = "`{kodepoli, kodedokter, tanggalperiksa, jampraktek}`"),
    responses((status = 200, body = WsEnvelope, description = "`{namapoli, namadokter, totalantrean, sisaantrean, antreanpanggil, sisakuotajkn, kuotajkn, sisakuotanonjkn, kuotanonjkn, keterangan}`")))]
async fn status(State(s): State<AppState>, Path(clinic): Path<String>, h: HeaderMap, body: Bytes) -> Json<WsEnvelope> {
    let r = async {
        let (tenant, config, body) = authed(&s, &clinic, &h, &body).await?;
        Ok(Some(ws::status(&s.deps, &tenant, &config, &body).await?))
    };
    done(r.await)
}

#[utoipa::path(post, path = "/api/bpjs/ws/{clinic}/ambilantrean", tag = "BPJS WS RS", params(("clinic" = String, Path), ("x-token" = String, Header), ("x-username" = String, Header)),
    request_body(content = Object, description = "`{nomorkartu, nik, nohp, kodepoli, norm, tanggalperiksa, kodedokter, jampraktek, jeniskunjungan, nomorreferensi}`"),
    responses((status = 200, body = WsEnvelope, description = "`{nomorantrean, angkaantrean, kodebooking, norm, namapoli, namadokter, estimasidilayani, sisakuotajkn, kuotajkn, sisakuotanonjkn, kuotanonjkn, keterangan}`; code 202 for a patient the clinic does not know")))]
async fn ambil(State(s): State<AppState>, Path(clinic): Path<String>, h: HeaderMap, body: Bytes) -> Json<WsEnvelope> {
    let r = async {
        let (tenant, config, body) = authed(&s, &clinic, &h, &body).await?;
        ws::ambil(&s.deps, &tenant, &config, &body).await
    };
    match r.await {
        Ok((202, message)) => answer(202, message.as_str().unwrap_or(ws::NEW_PATIENT), None),
        Ok((_, response)) => answer(200, "Ok", Some(response)),
        Err(e) => refused(e),
    }
}

#[utoipa::path(post, path = "/api/bpjs/ws/{clinic}/sisaantrean", tag = "BPJS WS RS", params(("clinic" = String, Path), ("x-token" = String, Header), ("x-username" = String, Header)),
    request_body(content = Object, description = "`{kodebooking}`"),
    responses((status = 200, body = WsEnvelope, description = "`{nomorantrean, namapoli, namadokter, sisaantrean, antreanpanggil, waktutunggu, keterangan}`")))]
async fn sisa(State(s): State<AppState>, Path(clinic): Path<String>, h: HeaderMap, body: Bytes) -> Json<WsEnvelope> {
    let r = async {
        let (tenant, _, body) = authed(&s, &clinic, &h, &body).await?;
        Ok(Some(ws::sisa(&s.deps, &tenant, &body).await?))
    };
    done(r.await)
}

#[utoipa::path(post, path = "/api/bpjs/ws/{clinic}/batalantrean", tag = "BPJS WS RS", params(("clinic" = String, Path), ("x-token" = String, Header), ("x-username" = String, Header)),
    request_body(content = Object, description = "`{kodebooking, keterangan}`"),
    responses((status = 200, body = WsEnvelope, description = "metadata only")))]
async fn batal(State(s): State<AppState>, Path(clinic): Path<String>, h: HeaderMap, body: Bytes) -> Json<WsEnvelope> {
    let r = async {
        let (tenant, _, body) = authed(&s, &clinic, &h, &body).await?;
        ws::batal(&s.deps, &tenant, &body).await.map(|()| None)
    };
    done(r.await)
}

#[utoipa::path(post, path = "/api/bpjs/ws/{clinic}/checkin", tag = "BPJS WS RS", params(("clinic" = String, Path), ("x-token" = String, Header), ("x-username" = String, Header)),
    request_body(content = Object, description = "`{kodebooking, waktu}` (ms)"),
    responses((status = 200, body = WsEnvelope, description = "metadata only")))]
async fn checkin(State(s): State<AppState>, Path(clinic): Path<String>, h: HeaderMap, body: Bytes) -> Json<WsEnvelope> {
    let r = async {
        let (tenant, _, body) = authed(&s, &clinic, &h, &body).await?;
        ws::checkin(&s.deps, &tenant, &body).await.map(|()| None)
    };
    done(r.await)
}

#[utoipa::path(post, path = "/api/bpjs/ws/{clinic}/pasienbaru", tag = "BPJS WS RS", params(("clinic" = String, Path), ("x-token" = String, Header), ("x-username" = String, Header)),
    request_body(content = Object, description = "`{nomorkartu, nik, nomorkk, nama, jeniskelamin, tanggallahir, nohp, alamat, …}`"),
    responses((status = 200, body = WsEnvelope, description = "`{norm}` with \"Harap datang ke admisi untuk melengkapi data rekam medis\"")))]
async fn pasien_baru(State(s): State<AppState>, Path(clinic): Path<String>, h: HeaderMap, body: Bytes) -> Json<WsEnvelope> {
    let r = async {
        let (tenant, _, body) = authed(&s, &clinic, &h, &body).await?;
        ws::pasien_baru(&s.deps, &tenant, &body).await
    };
    match r.await {
        Ok(norm) => answer(200, "Harap datang ke admisi untuk melengkapi data rekam medis", Some(norm)),
        Err(e) => refused(e),
    }
}
