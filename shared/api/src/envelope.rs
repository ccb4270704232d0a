//! The seed's success envelopes.
use serde::Serialize;
use utoipa::ToSchema;

/// `{"status":"success","data":…}`
#[derive(Debug, Serialize, ToSchema)]
pub struct Data<T> {
    pub status: &'static str,
    pub data: T,
}

/// `{"status":"success","message":…,"data":…}`
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageData<T> {
    pub status: &'static str,
    pub message: String,
    pub data: T,
}

/// `{"status":"success","message":…}`
#[derive(Debug, Serialize, ToSchema)]
pub struct Message {
    pub status: &'static str,
    pub message: String,
}

pub fn data<T>(data: T) -> Data<T> {
    Data { status: "success", data }
}

pub fn message_data<T>(message: impl Into<String>, data: T) -> MessageData<T> {
    MessageData { status: "success", message: message.into(), data }
}

pub fn message(message: impl Into<String>) -> Message {
    Message { status: "success", message: message.into() }
}
