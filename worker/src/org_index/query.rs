//! `GET /runs` and `GET /runs/count`: query parameters → filters → SQL with bindings, and the
//! opaque keyset cursor. Every list query is bounded (`LIMIT limit + 1`) and walks an index in
//! `(created_at, id)` order; only `q` (substring search) filters rows the index cannot.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use runbrake_core::StatusKind;
use worker::SqlStorageValue;

use super::error::ApiError;
use super::fields::{MAX_SAFE_INT, check_text};
use super::summary::{
    KIND_NAMES, MAX_ID_LEN, MAX_TAG_LEN, STATUS_NAMES, kind_from_str, status_from_str,
};

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 200;
pub const MAX_Q_LEN: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Desc,
    Asc,
}

impl Order {
    fn sql(self) -> &'static str {
        match self {
            Order::Desc => "DESC",
            Order::Asc => "ASC",
        }
    }

    /// The keyset comparison that moves past the cursor row.
    fn past(self) -> &'static str {
        match self {
            Order::Desc => "<",
            Order::Asc => ">",
        }
    }

    fn letter(self) -> char {
        match self {
            Order::Desc => 'd',
            Order::Asc => 'a',
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// Distinct, in lifecycle order; empty = any status.
    pub statuses: Vec<StatusKind>,
    pub kind: Option<String>,
    pub batch_id: Option<String>,
    pub tag: Option<String>,
    /// Inclusive.
    pub created_from: Option<u64>,
    /// Exclusive.
    pub created_to: Option<u64>,
    pub q: Option<String>,
}

/// The last row of a page: where the next page starts (exclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub order: Order,
    pub created_at: u64,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListParams {
    pub filters: Filters,
    pub limit: usize,
    pub order: Order,
    pub after: Option<Cursor>,
}

pub fn encode_cursor(order: Order, created_at: u64, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{created_at}:{id}", order.letter()))
}

pub fn decode_cursor(text: &str) -> Result<Cursor, ApiError> {
    let bad = || ApiError::invalid("cursor: malformed");
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let mut parts = text.splitn(3, ':');
    let order = match parts.next() {
        Some("d") => Order::Desc,
        Some("a") => Order::Asc,
        _ => return Err(bad()),
    };
    let created_at = parts
        .next()
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|n| *n <= MAX_SAFE_INT)
        .ok_or_else(bad)?;
    let id = parts
        .next()
        .filter(|s| !s.is_empty() && s.len() <= MAX_ID_LEN * 4)
        .ok_or_else(bad)?;
    Ok(Cursor {
        order,
        created_at,
        id: id.to_owned(),
    })
}

fn parse_ms(name: &str, value: &str) -> Result<u64, ApiError> {
    value
        .parse::<u64>()
        .ok()
        .filter(|n| *n <= MAX_SAFE_INT && value.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| ApiError::invalid(format!("{name}: must be milliseconds since the epoch")))
}

/// Parses the query string of `GET /runs` (and `/runs/count`, which ignores `limit`,
/// `cursor` and `order`). Unknown or repeated parameters are refused, so a typo cannot widen a
/// selection (a bulk cancel counts with these filters). Empty values mean "not given".
pub fn parse_params<I, K, V>(pairs: I) -> Result<ListParams, ApiError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut seen: Vec<String> = Vec::new();
    let mut f = Filters::default();
    let mut limit = DEFAULT_LIMIT;
    let mut order: Option<Order> = None;
    let mut after: Option<Cursor> = None;
    for (key, value) in pairs {
        let (key, value) = (key.as_ref(), value.as_ref());
        if seen.iter().any(|k| k == key) {
            return Err(ApiError::invalid(format!("{key}: given more than once")));
        }
        seen.push(key.to_owned());
        if value.is_empty() {
            continue;
        }
        match key {
            "status" => {
                for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    let s = status_from_str(part).ok_or_else(|| {
                        ApiError::invalid(format!(
                            "status: unknown status '{part}' (one of {STATUS_NAMES})"
                        ))
                    })?;
                    if !f.statuses.contains(&s) {
                        f.statuses.push(s);
                    }
                }
                f.statuses.sort();
            }
            "kind" => {
                if kind_from_str(value).is_none() {
                    return Err(ApiError::invalid(format!(
                        "kind: unknown kind '{value}' (one of {KIND_NAMES})"
                    )));
                }
                f.kind = Some(value.to_owned());
            }
            "batch_id" => {
                check_text("batch_id", value, MAX_ID_LEN, false).map_err(ApiError::invalid)?;
                f.batch_id = Some(value.to_owned());
            }
            "tag" => {
                check_text("tag", value, MAX_TAG_LEN, false).map_err(ApiError::invalid)?;
                f.tag = Some(value.to_owned());
            }
            "created_from" => f.created_from = Some(parse_ms(key, value)?),
            "created_to" => f.created_to = Some(parse_ms(key, value)?),
            "q" => {
                check_text("q", value, MAX_Q_LEN, false).map_err(ApiError::invalid)?;
                f.q = Some(value.to_owned());
            }
            "limit" => {
                limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        ApiError::invalid(format!("limit must be 1..={MAX_LIMIT}"))
                            .with_field("limit")
                    })?;
            }
            "order" => {
                order = Some(match value {
                    "desc" => Order::Desc,
                    "asc" => Order::Asc,
                    _ => return Err(ApiError::invalid("order: must be asc or desc")),
                });
            }
            "cursor" => after = Some(decode_cursor(value)?),
            other => return Err(ApiError::invalid(format!("{other}: unknown parameter"))),
        }
    }
    if f.statuses.len() == StatusKind::ALL.len() {
        f.statuses.clear();
    }
    let order = match (order, &after) {
        (Some(o), Some(c)) if o != c.order => {
            return Err(ApiError::invalid("cursor: was made for the other order"));
        }
        (Some(o), _) => o,
        (None, Some(c)) => c.order,
        (None, None) => Order::Desc,
    };
    Ok(ListParams {
        filters: f,
        limit,
        order,
        after,
    })
}

/// SQL text with numbered (`?N`) bindings, so a value used by several arms is bound once.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlQuery {
    pub sql: String,
    pub binds: Vec<SqlStorageValue>,
}

#[derive(Default)]
struct Binder {
    binds: Vec<SqlStorageValue>,
}

impl Binder {
    fn bind(&mut self, value: SqlStorageValue) -> String {
        self.binds.push(value);
        format!("?{}", self.binds.len())
    }

    fn text(&mut self, value: &str) -> String {
        self.bind(SqlStorageValue::String(value.to_owned()))
    }

    fn int(&mut self, value: u64) -> String {
        // Callers validated value <= MAX_SAFE_INT, so it fits.
        self.bind(SqlStorageValue::Integer(
            i64::try_from(value).unwrap_or(i64::MAX),
        ))
    }
}

/// Rows come from `runs`, or, with a tag filter, from the tag table's `(tag, created_at, run_id)`
/// index joined to `runs`.
struct Source {
    from: &'static str,
    created: &'static str,
    id: &'static str,
}

fn source(f: &Filters) -> Source {
    match f.tag {
        Some(_) => Source {
            from: "run_tags AS t JOIN runs AS r ON r.id = t.run_id",
            created: "t.created_at",
            id: "t.run_id",
        },
        None => Source {
            from: "runs AS r",
            created: "r.created_at",
            id: "r.id",
        },
    }
}

/// `%needle%` for `LIKE … ESCAPE '\'`, the needle lowercased and its wildcards escaped.
pub fn like_pattern(q: &str) -> String {
    let mut out = String::with_capacity(q.len() + 2);
    out.push('%');
    for c in q.to_lowercase().chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Every condition except status.
fn conditions(f: &Filters, src: &Source, b: &mut Binder) -> Vec<String> {
    let mut conds = Vec::new();
    if let Some(tag) = &f.tag {
        conds.push(format!("t.tag = {}", b.text(tag)));
    }
    if let Some(kind) = &f.kind {
        conds.push(format!("r.kind = {}", b.text(kind)));
    }
    if let Some(batch) = &f.batch_id {
        conds.push(format!("r.batch_id = {}", b.text(batch)));
    }
    if let Some(from) = f.created_from {
        conds.push(format!("{} >= {}", src.created, b.int(from)));
    }
    if let Some(to) = f.created_to {
        conds.push(format!("{} < {}", src.created, b.int(to)));
    }
    if let Some(q) = &f.q {
        let p = b.text(&like_pattern(q));
        conds.push(format!(
            "(r.id LIKE {p} ESCAPE '\\' OR r.name_lc LIKE {p} ESCAPE '\\')"
        ));
    }
    conds
}

fn where_clause(conds: &[String]) -> String {
    if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    }
}

/// One page (`limit + 1` rows, to know whether another page follows) as rows
/// `{summary, created_at, id}`. Several statuses become one index-ordered arm per status,
/// each bounded, merged by an outer ORDER BY: never a sort of every matching row.
pub fn list_query(p: &ListParams) -> SqlQuery {
    let f = &p.filters;
    let src = source(f);
    let mut b = Binder::default();
    let mut conds = conditions(f, &src, &mut b);
    if let Some(c) = &p.after {
        let (at, id) = (b.int(c.created_at), b.text(&c.id));
        conds.push(format!(
            "({}, {}) {} ({at}, {id})",
            src.created,
            src.id,
            p.order.past()
        ));
    }
    let limit = b.int(u64::try_from(p.limit).unwrap_or(0).saturating_add(1));
    let dir = p.order.sql();
    let arm = |extra: Option<String>| {
        let mut all = conds.clone();
        all.extend(extra);
        format!(
            "SELECT r.summary AS summary, {c} AS created_at, {i} AS id FROM {from}{w} \
             ORDER BY {c} {dir}, {i} {dir} LIMIT {limit}",
            c = src.created,
            i = src.id,
            from = src.from,
            w = where_clause(&all),
        )
    };
    let sql = match f.statuses.as_slice() {
        [] => arm(None),
        [one] => {
            let s = b.text(one.as_str());
            arm(Some(format!("r.status = {s}")))
        }
        many => {
            let arms: Vec<String> = many
                .iter()
                .map(|s| {
                    let s = b.text(s.as_str());
                    format!(
                        "SELECT summary, created_at, id FROM ({})",
                        arm(Some(format!("r.status = {s}")))
                    )
                })
                .collect();
            format!(
                "{} ORDER BY created_at {dir}, id {dir} LIMIT {limit}",
                arms.join(" UNION ALL ")
            )
        }
    };
    SqlQuery {
        sql,
        binds: b.binds,
    }
}

/// How to count a selection.
#[derive(Debug, Clone, PartialEq)]
pub enum CountPlan {
    /// Only a status filter (or none): the sum of these rows of the count table, O(1).
    /// Empty = every status.
    FromCounts(Vec<StatusKind>),
    /// `SELECT COUNT(*) AS n …`.
    Sql(SqlQuery),
}

pub fn count_plan(f: &Filters) -> CountPlan {
    if f.kind.is_none()
        && f.batch_id.is_none()
        && f.tag.is_none()
        && f.created_from.is_none()
        && f.created_to.is_none()
        && f.q.is_none()
    {
        return CountPlan::FromCounts(f.statuses.clone());
    }
    let src = source(f);
    let mut b = Binder::default();
    let mut conds = conditions(f, &src, &mut b);
    if !f.statuses.is_empty() {
        let list: Vec<String> = f.statuses.iter().map(|s| b.text(s.as_str())).collect();
        conds.push(format!("r.status IN ({})", list.join(", ")));
    }
    CountPlan::Sql(SqlQuery {
        sql: format!(
            "SELECT COUNT(*) AS n FROM {}{}",
            src.from,
            where_clause(&conds)
        ),
        binds: b.binds,
    })
}

/// The ids a bulk cancel freezes: every run the filters select, as rows `{run_id}`, in the
/// order the chosen index yields them (no sort: freezing 100,000 ids is one index walk).
pub fn select_ids_query(f: &Filters) -> SqlQuery {
    let src = source(f);
    let mut b = Binder::default();
    let mut conds = conditions(f, &src, &mut b);
    if !f.statuses.is_empty() {
        let list: Vec<String> = f.statuses.iter().map(|s| b.text(s.as_str())).collect();
        conds.push(format!("r.status IN ({})", list.join(", ")));
    }
    SqlQuery {
        sql: format!(
            "SELECT {} AS run_id FROM {}{}",
            src.id,
            src.from,
            where_clause(&conds)
        ),
        binds: b.binds,
    }
}

/// `{"pending": n, ... every status, "total": n}` from the count table's rows.
pub fn counts_value(rows: &[(String, i64)]) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    let mut total: u64 = 0;
    for s in StatusKind::ALL {
        let n = rows
            .iter()
            .find(|(status, _)| status == s.as_str())
            .map_or(0, |(_, n)| u64::try_from(*n).unwrap_or(0));
        total = total.saturating_add(n);
        map.insert(s.as_str().to_owned(), n.into());
    }
    map.insert("total".to_owned(), total.into());
    serde_json::Value::Object(map)
}

/// The number of runs in these statuses (empty = all) from the count table's rows.
pub fn sum_counts(rows: &[(String, i64)], statuses: &[StatusKind]) -> u64 {
    rows.iter()
        .filter(|(status, _)| {
            statuses.is_empty() || statuses.iter().any(|s| s.as_str() == status.as_str())
        })
        .map(|(_, n)| u64::try_from(*n).unwrap_or(0))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(q: &[(&str, &str)]) -> Result<ListParams, ApiError> {
        parse_params(q.iter().copied())
    }

    fn s(v: &str) -> SqlStorageValue {
        SqlStorageValue::String(v.to_owned())
    }

    fn i(v: i64) -> SqlStorageValue {
        SqlStorageValue::Integer(v)
    }

    #[test]
    fn defaults() {
        let p = params(&[]).expect("ok");
        assert_eq!(p.limit, 50);
        assert_eq!(p.order, Order::Desc);
        assert_eq!(p.after, None);
        assert_eq!(p.filters, Filters::default());
    }

    #[test]
    fn parses_every_filter() {
        let p = params(&[
            ("status", "running, queued,running"),
            ("kind", "experiment"),
            ("batch_id", "b1"),
            ("tag", "nightly"),
            ("created_from", "100"),
            ("created_to", "200"),
            ("q", "Abc"),
            ("limit", "200"),
            ("order", "asc"),
        ])
        .expect("ok");
        assert_eq!(
            p.filters.statuses,
            vec![StatusKind::Queued, StatusKind::Running]
        );
        assert_eq!(p.filters.kind.as_deref(), Some("experiment"));
        assert_eq!(p.filters.batch_id.as_deref(), Some("b1"));
        assert_eq!(p.filters.tag.as_deref(), Some("nightly"));
        assert_eq!(
            (p.filters.created_from, p.filters.created_to),
            (Some(100), Some(200))
        );
        assert_eq!(p.filters.q.as_deref(), Some("Abc"));
        assert_eq!((p.limit, p.order), (200, Order::Asc));
    }

    #[test]
    fn every_status_means_no_status_filter() {
        let all = StatusKind::ALL.map(StatusKind::as_str).join(",");
        let p = params(&[("status", all.as_str())]).expect("ok");
        assert!(p.filters.statuses.is_empty());
    }

    #[test]
    fn empty_values_are_not_given() {
        let p = params(&[("status", ""), ("kind", ""), ("q", "")]).expect("ok");
        assert_eq!(p.filters, Filters::default());
    }

    #[test]
    fn refusals_name_the_parameter() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("limit", "0")], "limit must be 1..=200"),
            (&[("limit", "201")], "limit must be 1..=200"),
            (&[("limit", "x")], "limit must be 1..=200"),
            (&[("status", "running,done")], "status:"),
            (&[("kind", "nope")], "kind:"),
            (&[("order", "up")], "order:"),
            (&[("created_from", "-1")], "created_from:"),
            (&[("created_to", "1e3")], "created_to:"),
            (&[("cursor", "!!!")], "cursor:"),
            (&[("statuss", "running")], "statuss: unknown parameter"),
            (
                &[("kind", "workflow"), ("kind", "generic")],
                "kind: given more than once",
            ),
            (&[("q", "a\u{1}")], "q:"),
        ];
        for (q, want) in cases {
            let err = params(q).expect_err(want);
            assert_eq!(err.status, 400);
            assert_eq!(err.code, "invalid");
            assert!(err.message.starts_with(want), "{} !~ {want}", err.message);
            assert_eq!(err.field.as_deref(), Some(q[q.len() - 1].0), "{want}");
        }
    }

    #[test]
    fn cursor_round_trip_and_malformed() {
        let c = encode_cursor(Order::Desc, 1_700_000_000_000, "run:weird_id");
        assert!(
            c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(
            decode_cursor(&c),
            Ok(Cursor {
                order: Order::Desc,
                created_at: 1_700_000_000_000,
                id: "run:weird_id".into()
            })
        );
        for bad in [
            "",
            "x",
            "eDoxOmE",
            "ZDo6YQ",
            "ZDoxOg",
            "ZDotMTph",
            "ZDo5OTk5OTk5OTk5OTk5OTk5OTphYg",
        ] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cursor_carries_its_order() {
        let c = encode_cursor(Order::Asc, 5, "r");
        let p = params(&[("cursor", c.as_str())]).expect("ok");
        assert_eq!(p.order, Order::Asc);
        assert!(params(&[("cursor", c.as_str()), ("order", "asc")]).is_ok());
        let err = params(&[("cursor", c.as_str()), ("order", "desc")]).expect_err("mismatch");
        assert!(err.message.starts_with("cursor:"));
    }

    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(like_pattern("AbC"), "%abc%");
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn list_without_filters_walks_the_created_index() {
        let q = list_query(&params(&[]).expect("ok"));
        assert_eq!(
            q.sql,
            "SELECT r.summary AS summary, r.created_at AS created_at, r.id AS id FROM runs AS r \
             ORDER BY r.created_at DESC, r.id DESC LIMIT ?1"
        );
        assert_eq!(q.binds, vec![i(51)]);
    }

    #[test]
    fn list_with_one_status_and_cursor() {
        let c = encode_cursor(Order::Asc, 10, "r9");
        let q = list_query(
            &params(&[
                ("status", "running"),
                ("kind", "generic"),
                ("cursor", c.as_str()),
                ("limit", "2"),
            ])
            .expect("ok"),
        );
        assert_eq!(
            q.sql,
            "SELECT r.summary AS summary, r.created_at AS created_at, r.id AS id FROM runs AS r \
             WHERE r.kind = ?1 AND (r.created_at, r.id) > (?2, ?3) AND r.status = ?5 \
             ORDER BY r.created_at ASC, r.id ASC LIMIT ?4"
        );
        assert_eq!(
            q.binds,
            vec![s("generic"), i(10), s("r9"), i(3), s("running")]
        );
    }

    #[test]
    fn list_with_several_statuses_merges_bounded_arms() {
        let q = list_query(&params(&[("status", "failed,running"), ("q", "x_")]).expect("ok"));
        let arm = |n: usize| {
            format!(
                "SELECT summary, created_at, id FROM (SELECT r.summary AS summary, r.created_at AS created_at, \
                 r.id AS id FROM runs AS r WHERE (r.id LIKE ?1 ESCAPE '\\' OR r.name_lc LIKE ?1 ESCAPE '\\') \
                 AND r.status = ?{n} ORDER BY r.created_at DESC, r.id DESC LIMIT ?2)"
            )
        };
        assert_eq!(
            q.sql,
            format!(
                "{} UNION ALL {} ORDER BY created_at DESC, id DESC LIMIT ?2",
                arm(3),
                arm(4)
            )
        );
        assert_eq!(q.binds, vec![s("%x\\_%"), i(51), s("running"), s("failed")]);
    }

    #[test]
    fn list_by_tag_walks_the_tag_index() {
        let q = list_query(
            &params(&[("tag", "t1"), ("created_from", "5"), ("created_to", "9")]).expect("ok"),
        );
        assert_eq!(
            q.sql,
            "SELECT r.summary AS summary, t.created_at AS created_at, t.run_id AS id \
             FROM run_tags AS t JOIN runs AS r ON r.id = t.run_id \
             WHERE t.tag = ?1 AND t.created_at >= ?2 AND t.created_at < ?3 \
             ORDER BY t.created_at DESC, t.run_id DESC LIMIT ?4"
        );
        assert_eq!(q.binds, vec![s("t1"), i(5), i(9), i(51)]);
    }

    #[test]
    fn bindings_stay_few_with_every_filter() {
        let c = encode_cursor(Order::Desc, 1, "a");
        let q = list_query(
            &params(&[
                (
                    "status",
                    "pending,queued,running,waiting,cancelling,completed,failed,rejected",
                ),
                ("kind", "generic"),
                ("batch_id", "b"),
                ("tag", "t"),
                ("created_from", "1"),
                ("created_to", "2"),
                ("q", "z"),
                ("cursor", c.as_str()),
            ])
            .expect("ok"),
        );
        assert!(q.binds.len() <= 20, "{}", q.binds.len());
        assert_eq!(q.sql.matches("UNION ALL").count(), 7);
    }

    #[test]
    fn count_plans() {
        assert_eq!(
            count_plan(&Filters::default()),
            CountPlan::FromCounts(vec![])
        );
        let p = params(&[("status", "running,queued")]).expect("ok");
        assert_eq!(
            count_plan(&p.filters),
            CountPlan::FromCounts(vec![StatusKind::Queued, StatusKind::Running])
        );
        let p = params(&[("status", "running,queued"), ("batch_id", "b")]).expect("ok");
        assert_eq!(
            count_plan(&p.filters),
            CountPlan::Sql(SqlQuery {
                sql: "SELECT COUNT(*) AS n FROM runs AS r WHERE r.batch_id = ?1 AND r.status IN (?2, ?3)"
                    .into(),
                binds: vec![s("b"), s("queued"), s("running")],
            })
        );
    }

    #[test]
    fn bulk_selection_queries() {
        let p = params(&[("status", "running,queued"), ("kind", "generic")]).expect("ok");
        let q = select_ids_query(&p.filters);
        assert_eq!(
            q.sql,
            "SELECT r.id AS run_id FROM runs AS r WHERE r.kind = ?1 AND r.status IN (?2, ?3)"
        );
        assert_eq!(q.binds, vec![s("generic"), s("queued"), s("running")]);
        let p = params(&[("tag", "t"), ("created_to", "9")]).expect("ok");
        let q = select_ids_query(&p.filters);
        assert_eq!(
            q.sql,
            "SELECT t.run_id AS run_id FROM run_tags AS t JOIN runs AS r ON r.id = t.run_id \
             WHERE t.tag = ?1 AND t.created_at < ?2"
        );
    }

    #[test]
    fn counts_cover_every_status() {
        let rows = vec![
            ("running".to_owned(), 3),
            ("failed".to_owned(), 2),
            ("queued".to_owned(), -1),
        ];
        let v = counts_value(&rows);
        assert_eq!(v["running"], 3);
        assert_eq!(v["failed"], 2);
        assert_eq!(v["queued"], 0);
        assert_eq!(v["cancelled"], 0);
        assert_eq!(v["total"], 5);
        assert_eq!(v.as_object().map(|o| o.len()), Some(10));
        assert_eq!(sum_counts(&rows, &[]), 5);
        assert_eq!(
            sum_counts(&rows, &[StatusKind::Running, StatusKind::Pending]),
            3
        );
    }
}
