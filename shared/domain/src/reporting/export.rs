//! XLSX exports of the reports, built with rust_xlsxwriter, that a clinic can hand on as they
//! are: a title row naming the clinic and the report, a row with the period and filters, a
//! bold frozen header with an autofilter, dates and times as real date cells (clinic time),
//! numbers as numbers, and column widths that fit.
//!
//! The sheet is written in rust_xlsxwriter's constant-memory mode (rows stream to a temporary
//! file as they are written), so a 100,000-row export costs little more memory than its rows.
use chrono::NaiveDateTime;
use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};

use crate::error::{DomainError, DomainResult};
use crate::reporting::{Cell, Kind, Rows};

/// Where the header row is (0-based); data rows follow it.
pub const HEADER_ROW: u32 = 3;

/// What the title rows say.
pub struct Heading<'a> {
    pub clinic: &'a str,
    pub kind: Kind,
    /// The period and filters in words.
    pub filters: &'a str,
    /// When it was made, clinic time.
    pub generated_at: NaiveDateTime,
    pub zone: &'a str,
}

fn xlsx_error(e: XlsxError) -> DomainError {
    DomainError::Internal(format!("building the XLSX failed: {e}"))
}

/// The workbook's bytes.
pub fn xlsx(heading: &Heading<'_>, rows: &Rows) -> DomainResult<Vec<u8>> {
    build(heading, rows).map_err(xlsx_error)
}

fn build(heading: &Heading<'_>, rows: &Rows) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let title = Format::new().set_bold().set_font_size(14);
    let subtitle = Format::new().set_italic();
    let header = Format::new().set_bold().set_background_color("#D9E1F2").set_border_bottom(rust_xlsxwriter::FormatBorder::Thin).set_text_wrap().set_align(FormatAlign::Center);
    let date = Format::new().set_num_format("yyyy-mm-dd").set_align(FormatAlign::Left);
    let time = Format::new().set_num_format("hh:mm").set_align(FormatAlign::Left);
    let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm").set_align(FormatAlign::Left);
    let int = Format::new().set_num_format("0");
    let num = Format::new().set_num_format("0.00");

    let sheet = workbook.add_worksheet_with_constant_memory()?;
    sheet.set_name(sheet_name(heading.kind))?;
    for (i, c) in rows.columns.iter().enumerate() {
        sheet.set_column_width(i as u16, c.width)?;
    }
    sheet.write_string_with_format(0, 0, format!("{} — {}", heading.clinic, heading.kind.title()), &title)?;
    sheet.write_string_with_format(
        1,
        0,
        format!("{} · Generated {} ({})", heading.filters, heading.generated_at.format("%Y-%m-%d %H:%M"), heading.zone),
        &subtitle,
    )?;
    for (i, c) in rows.columns.iter().enumerate() {
        sheet.write_string_with_format(HEADER_ROW, i as u16, &c.header, &header)?;
    }
    let mut r = HEADER_ROW;
    for row in &rows.rows {
        r += 1;
        for (i, cell) in row.iter().enumerate() {
            let col = i as u16;
            match cell {
                Cell::Date(d) => sheet.write_date_with_format(r, col, d, &date)?,
                Cell::Time(t) => sheet.write_time_with_format(r, col, t, &time)?,
                Cell::DateTime(t) => sheet.write_datetime_with_format(r, col, t, &datetime)?,
                Cell::Int(n) => sheet.write_number_with_format(r, col, *n as f64, &int)?,
                Cell::Num(x) => sheet.write_number_with_format(r, col, x.0, &num)?,
                Cell::Text(s) => sheet.write_string(r, col, s)?,
                Cell::Empty => sheet,
            };
        }
    }
    let last_col = rows.columns.len().saturating_sub(1) as u16;
    sheet.autofilter(HEADER_ROW, 0, r, last_col)?;
    sheet.set_freeze_panes(HEADER_ROW + 1, 0)?;
    workbook.save_to_buffer()
}

fn sheet_name(kind: Kind) -> &'static str {
    match kind {
        Kind::PatientVisits => "Patient Visits",
        Kind::NoShowCancelled => "No-Show & Cancelled",
        Kind::BpjsVsGeneral => "BPJS vs General",
        Kind::PolyPerformance => "Poly Performance",
        Kind::WaitingTime => "Waiting Time",
        Kind::BusyHour => "Busy Hours",
        Kind::UserActivity => "User Activity",
    }
}

/// The file name a download gets: `patient-visits_2026-01-01_2026-01-31.xlsx`.
pub fn file_name(kind: Kind, from: chrono::NaiveDate, to: chrono::NaiveDate) -> String {
    format!("{}_{}_{}.xlsx", kind.slug(), from.format("%Y-%m-%d"), to.format("%Y-%m-%d"))
}
