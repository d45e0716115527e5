//! The data the CPF transmission needs (arrêté du 21 mai 2021): identity fields, exam
//! dates, mode, the CEFR level reached or `INSUFFISANT`, and the verification address.

use serde::Serialize;

use super::ResultDoc;
use crate::db::Db;
use crate::error::ApiError;

/// One candidate's line.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct CpfRow {
    /// Nom de naissance.
    pub nom_naissance: String,
    /// Nom d'usage.
    pub nom_usage: String,
    /// Prénoms.
    pub prenoms: String,
    /// Date de naissance (AAAA-MM-JJ).
    pub date_naissance: String,
    /// Sexe (F/M).
    pub sexe: String,
    /// Commune de naissance.
    pub commune_naissance: String,
    /// Pays de naissance.
    pub pays_naissance: String,
    /// Date de l'épreuve écrite.
    pub date_ecrit: String,
    /// Date de l'épreuve orale.
    pub date_oral: String,
    /// Modalité.
    pub modalite: String,
    /// Niveau CECRL obtenu, ou INSUFFISANT.
    pub niveau: String,
    /// URL de vérification du certificat.
    pub url_verification: String,
}

/// The lines of every candidate with a released result.
pub async fn rows(db: &Db, public_url: &str) -> Result<Vec<CpfRow>, ApiError> {
    type R = (
        String,
        Option<String>,
        String,
        String,
        String,
        String,
        String,
        String,
        Option<String>,
    );
    let list: Vec<R> = sqlx::query_as(
        "SELECT p.birth_name, p.usage_name, p.first_names, p.birth_date, p.sex, p.birth_commune, p.birth_country, r.result_json, v.certificate_id \
         FROM results r JOIN candidate_profiles p ON p.user_id = r.candidate_id \
         LEFT JOIN revocations v ON v.certificate_id = r.certificate_id ORDER BY p.birth_name, p.first_names",
    )
    .fetch_all(&db.pool)
    .await?;
    let base = public_url.trim_end_matches('/');
    list.into_iter()
        .map(
            |(bn, un, fnames, bd, sex, commune, country, json, revoked)| {
                let r: ResultDoc =
                    serde_json::from_str(&json).map_err(|e| ApiError::Internal(e.to_string()))?;
                // A revoked certificate no longer certifies anything.
                let certified = r.status == "valid" && r.reached && revoked.is_none();
                Ok(CpfRow {
                    nom_naissance: bn,
                    nom_usage: un.unwrap_or_default(),
                    prenoms: fnames,
                    date_naissance: bd,
                    sexe: sex,
                    commune_naissance: commune,
                    pays_naissance: country,
                    date_ecrit: r.written_at.get(..10).unwrap_or_default().to_owned(),
                    date_oral: r.oral_at.get(..10).unwrap_or_default().to_owned(),
                    modalite: "A distance".to_owned(),
                    niveau: if certified {
                        r.overall.to_string()
                    } else {
                        "INSUFFISANT".to_owned()
                    },
                    url_verification: r
                        .certificate_id
                        .filter(|_| certified)
                        .map(|id| format!("{base}/verify/{id}"))
                        .unwrap_or_default(),
                })
            },
        )
        .collect()
}

/// The lines as CSV (`;`-separated, as French spreadsheets expect), with a header.
pub fn to_csv(rows: &[CpfRow]) -> String {
    let quote = |s: &str| {
        // A leading = + - @ would make a formula in a spreadsheet: neutralise it.
        let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{s}")
        } else {
            s.to_owned()
        };
        if s.contains([';', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s
        }
    };
    let mut out = String::from(
        "nom_naissance;nom_usage;prenoms;date_naissance;sexe;commune_naissance;pays_naissance;date_ecrit;date_oral;modalite;niveau;url_verification\n",
    );
    for r in rows {
        let fields = [
            &r.nom_naissance,
            &r.nom_usage,
            &r.prenoms,
            &r.date_naissance,
            &r.sexe,
            &r.commune_naissance,
            &r.pays_naissance,
            &r.date_ecrit,
            &r.date_oral,
            &r.modalite,
            &r.niveau,
            &r.url_verification,
        ];
        out.push_str(
            &fields
                .iter()
                .map(|f| quote(f))
                .collect::<Vec<_>>()
                .join(";"),
        );
        out.push('\n');
    }
    out
}
