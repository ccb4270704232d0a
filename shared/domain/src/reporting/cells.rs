//! The cells, rows and pagination block every report is made of: the page writes a row's
//! cells as JSON, the export as typed cells, so the two cannot disagree.
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::paging::Paging;

/// A number rounded to two decimals, written without a fraction when it is whole
/// (`70`, `33.33`), as the seed shows percentages and minutes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fixed2(pub f64);

impl Fixed2 {
    pub fn of(x: f64) -> Fixed2 {
        Fixed2((x * 100.0).round() / 100.0)
    }
    /// `part / whole × 100`, 0 when there is no whole.
    pub fn percent(part: i64, whole: i64) -> Fixed2 {
        if whole == 0 {
            Fixed2(0.0)
        } else {
            Fixed2::of(part as f64 * 100.0 / whole as f64)
        }
    }
    pub fn to_json(self) -> Value {
        if self.0.fract() == 0.0 && self.0.abs() < 1e15 {
            Value::from(self.0 as i64)
        } else {
            serde_json::Number::from_f64(self.0).map(Value::Number).unwrap_or(Value::Null)
        }
    }
}

impl Serialize for Fixed2 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

/// Seconds of waiting as minutes with two decimals.
pub fn minutes(secs: f64) -> Fixed2 {
    Fixed2::of(secs / 60.0)
}

/// One cell of a report row: the page writes it as JSON, the export as a typed cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Date(NaiveDate),
    /// A clock time of the clinic (`"09:15"`).
    Time(NaiveTime),
    /// A moment in the clinic's zone.
    DateTime(NaiveDateTime),
    Int(i64),
    Num(Fixed2),
    Text(String),
    Empty,
}

impl Cell {
    /// A clock time to the minute, as the page shows it (`"09:15"`): the export's cell holds
    /// that same minute, not the seconds behind it (a spreadsheet would round 09:15:59 up).
    pub fn clock(t: NaiveTime) -> Cell {
        Cell::Time(t.with_second(0).and_then(|t| t.with_nanosecond(0)).unwrap_or(t))
    }
    pub fn opt_num(x: Option<Fixed2>) -> Cell {
        x.map(Cell::Num).unwrap_or(Cell::Empty)
    }
    pub fn to_json(&self) -> Value {
        match self {
            Cell::Date(d) => d.format("%Y-%m-%d").to_string().into(),
            Cell::Time(t) => t.format("%H:%M").to_string().into(),
            Cell::DateTime(t) => t.format("%Y-%m-%d %H:%M:%S").to_string().into(),
            Cell::Int(n) => (*n).into(),
            Cell::Num(x) => x.to_json(),
            Cell::Text(s) => s.clone().into(),
            Cell::Empty => Value::Null,
        }
    }
}

/// How a column is shown in the export.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The JSON field of the page row.
    pub field: String,
    /// The header in the export.
    pub header: String,
    /// Width in characters.
    pub width: f64,
}

impl Column {
    pub fn new(field: &str, header: &str, width: f64) -> Column {
        Column { field: field.into(), header: header.into(), width }
    }
}

/// A report's rows (all, or one page) with its columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

impl Rows {
    pub fn to_json(&self) -> Vec<Value> {
        self.rows
            .iter()
            .map(|r| {
                let mut m = Map::new();
                for (c, cell) in self.columns.iter().zip(r) {
                    m.insert(c.field.clone(), cell.to_json());
                }
                Value::Object(m)
            })
            .collect()
    }
}

/// The seed's `pagination` block, in the seed's order.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Pagination {
    pub current_page: usize,
    pub per_page: usize,
    pub total: usize,
    pub last_page: usize,
}

impl Pagination {
    pub fn of(paging: Paging, total: usize) -> Pagination {
        Pagination { current_page: paging.page, per_page: paging.per_page, total, last_page: total.div_ceil(paging.per_page).max(1) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_the_seed_shows_them() {
        assert_eq!(serde_json::to_string(&Fixed2::percent(7, 10)).unwrap(), "70");
        assert_eq!(serde_json::to_string(&Fixed2::percent(1, 3)).unwrap(), "33.33");
        assert_eq!(serde_json::to_string(&Fixed2::percent(2, 3)).unwrap(), "66.67");
        assert_eq!(serde_json::to_string(&Fixed2::percent(0, 0)).unwrap(), "0");
        assert_eq!(serde_json::to_string(&minutes(4076.4)).unwrap(), "67.94");
    }

    #[test]
    fn a_clock_cell_holds_the_minute_the_page_shows() {
        let late_in_the_minute = NaiveTime::from_hms_milli_opt(9, 15, 59, 900).unwrap();
        let cell = Cell::clock(late_in_the_minute);
        assert_eq!(cell, Cell::Time(NaiveTime::from_hms_opt(9, 15, 0).unwrap()), "the export's cell: 09:15, not 09:16 once rounded");
        assert_eq!(cell.to_json(), "09:15");
    }
}
