//! The seven reports of the seed's "Report (Page & Export)" section: their paths, titles,
//! messages and which filters each takes.

/// The seven reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    PatientVisits,
    NoShowCancelled,
    BpjsVsGeneral,
    PolyPerformance,
    WaitingTime,
    BusyHour,
    UserActivity,
}

impl Kind {
    pub const ALL: [Kind; 7] =
        [Kind::PatientVisits, Kind::NoShowCancelled, Kind::BpjsVsGeneral, Kind::PolyPerformance, Kind::WaitingTime, Kind::BusyHour, Kind::UserActivity];

    /// The path segment: `/api/reports/<slug>`.
    pub fn slug(self) -> &'static str {
        match self {
            Kind::PatientVisits => "patient-visits",
            Kind::NoShowCancelled => "no-show-cancelled",
            Kind::BpjsVsGeneral => "bpjs-vs-general",
            Kind::PolyPerformance => "poly-performance",
            Kind::WaitingTime => "waiting-time",
            Kind::BusyHour => "busy-hour",
            Kind::UserActivity => "user-activity",
        }
    }

    pub fn parse(slug: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.slug() == slug)
    }

    /// The report's name on the export's title row.
    pub fn title(self) -> &'static str {
        match self {
            Kind::PatientVisits => "Patient Visits (Laporan Kunjungan Pasien)",
            Kind::NoShowCancelled => "No-Show & Cancelled (Laporan No Show & Cancelled)",
            Kind::BpjsVsGeneral => "BPJS vs General (Laporan BPJS vs Umum)",
            Kind::PolyPerformance => "Poly Performance (Laporan Kinerja Poli)",
            Kind::WaitingTime => "Waiting Time (Laporan Waktu Tunggu)",
            Kind::BusyHour => "Busy Hours (Laporan Jam Sibuk)",
            Kind::UserActivity => "User Activity (Laporan Aktivitas User)",
        }
    }

    /// The page's success message, as the seed words it.
    pub fn message(self) -> &'static str {
        match self {
            Kind::PatientVisits => "Patient visit report retrieved successfully",
            Kind::NoShowCancelled => "No-show and cancelled report retrieved successfully",
            Kind::BpjsVsGeneral => "BPJS vs General report retrieved successfully",
            Kind::PolyPerformance => "Poly performance report retrieved successfully",
            Kind::WaitingTime => "Waiting time report retrieved successfully",
            Kind::BusyHour => "Busy hour report retrieved successfully",
            Kind::UserActivity => "User activity report retrieved successfully",
        }
    }

    pub(crate) fn takes_poly(self) -> bool {
        self != Kind::UserActivity
    }
    pub(crate) fn takes_insurance(self) -> bool {
        matches!(self, Kind::PatientVisits | Kind::NoShowCancelled)
    }
    pub(crate) fn takes_status(self) -> bool {
        self == Kind::PatientVisits
    }
    pub(crate) fn takes_user(self) -> bool {
        self == Kind::UserActivity
    }
}
