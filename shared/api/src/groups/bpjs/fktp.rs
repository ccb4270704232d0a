//! The Antrean FKTP endpoints (klinik pratama) Mobile JKN calls on the clinic:
//! `/api/bpjs/fktp/{clinic}/…`, in BPJS's envelope (see `ws`): `GET auth` (`x-username`,
//! `x-password`), then `x-token` and `x-username` on `GET antrean/status/{kodepoli}/{tanggal}`,
//! `GET antrean/sisapeserta/{nokartu}/{kodepoli}/{tanggal}`, `POST antrean`, `POST peserta`,
//! `PUT antrean/batal`.
use antrean_domain::bpjs::{fktp, ws as rs};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ws::{answer, authed, done, header, refused, tenant_of, WsEnvelope};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(auth))
        .routes(routes!(status))
        .routes(routes!(sisa_peserta))
        .routes(routes!(antrean))
        .routes(routes!(peserta))
        .routes(routes!(batal))
}

#[utoipa::path(get, path = "/api/bpjs/fktp/{clinic}/auth", tag = "BPJS WS FKTP", params(("clinic" = String, Path), ("x-username" = String, Header), ("x-password" = String, Header)),
    responses((status = 200, body = WsEnvelope, description = "`{response:{token}, metadata}`")))]
async fn auth(State(s): State<AppState>, Path(clinic): Path<String>, h: HeaderMap) -> Json<WsEnvelope> {
    let r = async {
        let tenant = tenant_of(&clinic)?;
        let token = rs::token(&s.deps, &tenant, header(&h, "x-username"), header(&h, "x-password")).await?;
        Ok(Some(json!({"token": token})))
    };
    done(r.await)
}

#[utoipa::path(get, path = "/api/bpjs/fktp/{clinic}/antrean/status/{kodepoli}/{tanggal}", tag = "BPJS WS FKTP",
    params(("clinic" = String, Path), ("kodepoli" = String, Path), ("tanggal" = String, Path), ("x-token" = String, Header), ("x-username" = String, Header)),
    responses((status = 200, body = WsEnvelope, description = "`[{namapoli, totalantrean, sisaantrean, antreanpanggil, keterangan, kodedokter, namadokter, jampraktek}]`")))]
async fn status(State(s): State<AppState>, Path((clinic, kodepoli, tanggal)): Path<(String, String, String)>, h: HeaderMap) -> Json<WsEnvelope> {
    let r = async {
        let (tenant, config, _) = authed(&s, &clinic, &h, &Bytes::new()).await?;
        fktp::status(&s.deps, &tenant, &config, &kodepoli, &tanggal).await.map(Some)
    };
    done(r.await)
}

#[utoipa::path(get, path = "/api/bpjs/fktp/{clinic}/antrean/sisapeserta/{nokartu}/{kodepoli}/{tanggal}", tag = "BPJS WS FKTP",
    params(("clinic" = String, Path), ("nokartu" = String, Path), ("kodepoli" = String, Path), ("tanggal" = String, Path), ("x-token" = String, Header), ("x-username" = String, Header)),
    responses((status = 200, body = WsEnvelope, description = "`{nomorantrean, namapoli, sisaantrean, antreanpanggil, keterangan}`")))]
async fn sisa_peserta(
    State(s): State<AppState>,
    Path((clinic, nokartu, kodepoli, tanggal)): Path<(String, String, String, String)>,
    h: HeaderMap,
) -> Json<WsEnvelope> {
    let r = async {
        let (tenant, _, _) = authed(&s, &clinic, &h, &Bytes::new()).await?;
        fktp::sisa_peserta(&s.deps, &tenant, &nokartu, &kodepoli, &tanggal).await.map(Some)
    };
    done(r.await)
}

#[utoipa::path(post, path = "/api/bpjs/fktp/{clinic}/antrean", tag = "BPJS WS FKTP", params(("clinic" = String, Path), ("x-token" = String, Header), ("x-username" = String, Header)),
    request_body(content = Object, description = "`{nomorkartu, nik, kodepoli, tanggalperiksa, keluhan, kodedokter, jampraktek, norm, nohp}`"),
    responses((status = 200, body = WsEnvelope, description = "`{nomorantrean, angkaantrean, namapoli, sisaantrean, antreanpanggil, keterangan}`; 202 for a card number the clinic does not know")))]
async fn antrean(State(s): State<AppState>, Path(clinic): Path<String>, h: HeaderMap, body: Bytes) -> Json<WsEnvelope> {
    let r = async {
        let (tenant, config, body) = authed(&s, &clinic, &h, &body).await?;
        fktp::ambil(&s.deps, &tenant, &config, &body).await
    };
    match r.await {
        Ok((200, v)) => answer(200, "Ok", Some(v)),
        Ok((code, message)) => answer(code, message.as_str().unwrap_or(rs::NEW_PATIENT), None),
        Err(e) => refused(e),
    }
}

#[utoipa::path(post, path = "/api/bpjs/fktp/{clinic}/peserta", tag = "BPJS WS FKTP", params(("clinic" = String, Path), ("x-token" = String, Header), ("x-username" = String, Header)),
    request_body(content = Object, description = "`{nomorkartu, nik, nomorkk, nama, jeniskelamin, tanggallahir, alamat, nohp, …}`"),
    responses((status = 200, body = WsEnvelope, description = "`{norm}`")))]
async fn peserta(State(s): State<AppState>, Path(clinic): Path<String>, h: HeaderMap, body: Bytes) -> Json<WsEnvelope> {
    let r = async {
        let (tenant, _, body) = authed(&s, &clinic, &h, &body).await?;
        rs::pasien_baru(&s.deps, &tenant, &body).await.map(Some)
    };
    done(r.await)
}

#[utoipa::path(put, path = "/api/bpjs/fktp/{clinic}/antrean/batal", tag = "BPJS WS FKTP", params(("clinic" = String, Path), ("x-token" = String, Header), ("x-username" = String, Header)),
    request_body(content = Object, description = "`{tanggalperiksa, kodepoli, nomorkartu, alasan}`"),
    responses((status = 200, body = WsEnvelope, description = "metadata only")))]
async fn batal(State(s): State<AppState>, Path(clinic): Path<String>, h: HeaderMap, body: Bytes) -> Json<WsEnvelope> {
    let r = async {
        let (tenant, _, body) = authed(&s, &clinic, &h, &body).await?;
        fktp::batal(&s.deps, &tenant, &body).await.map(|()| None)
    };
    done(r.await)
}
