//! `jembatan store migrate`: an SQLite deployment's data copied into PostgreSQL,
//! for a deployment that moves to several instances on one database.
//!
//! The two schemas hold the same values column for column (see
//! `migrations/postgres/0001_init.sql`): ids, JSON and times as text, integers,
//! bytes. So the copy is table by table, every column as stored, without decoding
//! rows into the store's types (which would drop a column no type reads, such as a
//! buyer's API key hash): each SQLite value becomes the PostgreSQL column's type,
//! and a value of another type is an error naming the table and column, not a
//! silent change.
//!
//! The target must be an empty database (its schema is created or brought up to
//! date first); the whole copy is one transaction that checks every table's row
//! count before it commits, so a failed copy leaves the target as it was. The
//! source is read in one snapshot; its gateway should be stopped first, or orders
//! it takes meanwhile stay behind. Claims in flight are not copied: the migrated
//! deployment starts with every pending delivery free to be claimed.

use std::sync::Arc;

use bytes::BytesMut;
use rusqlite::types::ValueRef;
use tokio::sync::mpsc;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use super::{EngineError, PostgresOptions, PostgresStore, StoreError, StoreResult};

/// Tables that hold no deployment data: the write probe's one row, rewritten by
/// every gateway that starts.
const NOT_DATA: &[&str] = &["health_probe"];

/// One table copied: its name and how many rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub table: &'static str,
    pub rows: u64,
}

/// Copies every table of the SQLite database at `from` (`sqlite://PATH`, which
/// must exist) into the empty PostgreSQL database at `to` (`postgres://…`), in
/// one transaction; returns the tables copied, in the order copied.
pub async fn sqlite_to_postgres(from: &str, to: &str) -> StoreResult<Vec<Copied>> {
    let source = super::sqlite::path_of(from)?;
    if !source.is_file() {
        return Err(StoreError::Invalid(format!(
            "no SQLite database at {}",
            source.display()
        )));
    }
    let target = PostgresStore::open_with(to, PostgresOptions { pool_size: 1 }).await?;
    let mut client = target.client().await?;
    let tx = client.transaction().await?;
    // No gateway writes while the copy runs: a gateway started on the target
    // waits here rather than writing between the check below and the commit.
    tx.execute(
        "SELECT pg_advisory_xact_lock($1)",
        &[&super::postgres::WRITE_LOCK],
    )
    .await?;
    let tables = tables(&tx).await?;
    let holding: Vec<&str> = {
        let mut holding = Vec::new();
        for table in &tables {
            let sql = format!("SELECT EXISTS (SELECT 1 FROM {})", table.name);
            if tx.query_one(&sql, &[]).await?.try_get::<_, bool>(0)? {
                holding.push(table.name);
            }
        }
        holding
    };
    if !holding.is_empty() {
        return Err(StoreError::Invalid(format!(
            "the target database already holds data (in {}); migrate into an empty database",
            holding.join(", ")
        )));
    }

    // SQLite is read on a thread of its own and its rows streamed here, so a
    // database larger than memory copies too.
    let (rows_tx, mut rows_rx) = mpsc::channel::<StoreResult<Item>>(1024);
    let plan = Arc::new(tables);
    let reader = {
        let plan = Arc::clone(&plan);
        std::thread::spawn(move || {
            if let Err(error) = read_sqlite(&source, &plan, &rows_tx) {
                let _ = rows_tx.blocking_send(Err(error));
            }
        })
    };
    let mut copied = Vec::new();
    for table in plan.iter() {
        let columns: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        let types: Vec<Type> = table.columns.iter().map(|c| c.kind.pg_type()).collect();
        let sink = tx
            .copy_in(&format!(
                "COPY {} ({}) FROM STDIN BINARY",
                table.name,
                columns.join(", ")
            ))
            .await?;
        let writer = BinaryCopyInWriter::new(sink, &types);
        tokio::pin!(writer);
        let source_rows = loop {
            let item = rows_rx.recv().await.ok_or_else(|| {
                StoreError::Database(EngineError::msg("the SQLite reader stopped early"))
            })??;
            match item {
                Item::Row(cells) => {
                    let values: Vec<&(dyn ToSql + Sync)> =
                        cells.iter().map(|c| c as &(dyn ToSql + Sync)).collect();
                    writer.as_mut().write(&values).await?;
                }
                Item::End { rows } => break rows,
            }
        };
        let written = writer.as_mut().finish().await?;
        let stored: i64 = tx
            .query_one(&format!("SELECT count(*) FROM {}", table.name), &[])
            .await?
            .try_get(0)?;
        if written != source_rows || u64::try_from(stored).ok() != Some(source_rows) {
            return Err(StoreError::Database(EngineError::msg(format!(
                "{}: {source_rows} rows in SQLite, {written} copied, {stored} in PostgreSQL",
                table.name
            ))));
        }
        // An identity column's sequence continues after the copied values.
        for column in table.columns.iter().filter(|c| c.identity) {
            tx.execute(
                &format!(
                    "SELECT setval(pg_get_serial_sequence($1, $2), max({column})) FROM {table} \
                     HAVING max({column}) IS NOT NULL",
                    column = column.name,
                    table = table.name
                ),
                &[&table.name, &column.name],
            )
            .await?;
        }
        copied.push(Copied {
            table: table.name,
            rows: source_rows,
        });
    }
    let _ = reader.join();
    // A claim held on SQLite belonged to a gateway that is no longer there.
    tx.execute(
        "UPDATE deliveries SET claimed_until = NULL, claimed_by = NULL \
         WHERE claimed_until IS NOT NULL OR claimed_by IS NOT NULL",
        &[],
    )
    .await?;
    tx.commit()
        .await
        .map_err(|e| StoreError::Aborted(super::postgres::engine_error(e)))?;
    Ok(copied)
}

/// A table to copy, in PostgreSQL's terms: the columns the copy fills.
struct Table {
    name: &'static str,
    columns: Vec<Column>,
}

struct Column {
    name: String,
    kind: Kind,
    /// `GENERATED ALWAYS AS IDENTITY`: copied as stored, then its sequence moved on.
    identity: bool,
}

/// The column types the PostgreSQL schema uses.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Integer,
    Bytes,
}

impl Kind {
    fn of(data_type: &str) -> Option<Self> {
        match data_type {
            "text" => Some(Self::Text),
            "bigint" => Some(Self::Integer),
            "bytea" => Some(Self::Bytes),
            _ => None,
        }
    }

    fn pg_type(self) -> Type {
        match self {
            Self::Text => Type::TEXT,
            Self::Integer => Type::INT8,
            Self::Bytes => Type::BYTEA,
        }
    }
}

/// The target's tables with data, in the order their foreign keys allow, and
/// their columns.
async fn tables(tx: &deadpool_postgres::Transaction<'_>) -> StoreResult<Vec<Table>> {
    let mut tables = Vec::new();
    for &name in super::postgres::TABLES {
        if NOT_DATA.contains(&name) {
            continue;
        }
        let mut columns = Vec::new();
        for row in tx
            .query(
                "SELECT column_name::text, data_type::text, is_identity::text \
                 FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 \
                 ORDER BY ordinal_position",
                &[&name],
            )
            .await?
        {
            let (column, data_type, identity): (String, String, String) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            let kind = Kind::of(&data_type).ok_or_else(|| {
                StoreError::Invalid(format!(
                    "{name}.{column} is {data_type}, which the copy does not know"
                ))
            })?;
            columns.push(Column {
                name: column,
                kind,
                identity: identity == "YES",
            });
        }
        tables.push(Table { name, columns });
    }
    Ok(tables)
}

/// What the SQLite reader sends: each row of a table, then the table's count.
enum Item {
    Row(Vec<Cell>),
    End { rows: u64 },
}

/// One value, as the PostgreSQL column takes it.
#[derive(Debug)]
enum Cell {
    Null,
    Integer(i64),
    Text(String),
    Bytes(Vec<u8>),
}

impl ToSql for Cell {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Self::Null => Ok(IsNull::Yes),
            Self::Integer(value) => value.to_sql(ty, out),
            Self::Text(value) => value.to_sql(ty, out),
            Self::Bytes(value) => value.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        [Type::TEXT, Type::INT8, Type::BYTEA].contains(ty)
    }

    to_sql_checked!();
}

/// Reads every table of `plan` from the SQLite file at `path` (its schema brought
/// up to date first) in one snapshot, sending its rows to `out`.
fn read_sqlite(
    path: &std::path::Path,
    plan: &[Table],
    out: &mpsc::Sender<StoreResult<Item>>,
) -> StoreResult<()> {
    let conn = super::sqlite::open_existing(path)?;
    conn.execute_batch("BEGIN")?;
    let mut unknown = Vec::new();
    {
        let mut names = conn.prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
        )?;
        for name in names.query_map([], |row| row.get::<_, String>(0))? {
            let name = name?;
            if !NOT_DATA.contains(&name.as_str()) && !plan.iter().any(|t| t.name == name) {
                unknown.push(name);
            }
        }
    }
    if !unknown.is_empty() {
        return Err(StoreError::Invalid(format!(
            "the SQLite database has tables PostgreSQL has not: {}",
            unknown.join(", ")
        )));
    }
    for table in plan {
        let present: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info(?1)")?
            .query_map([table.name], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        if let Some(missing) = present
            .iter()
            .find(|name| !table.columns.iter().any(|c| &c.name == *name))
        {
            return Err(StoreError::Invalid(format!(
                "{}.{missing} is in SQLite but not in PostgreSQL",
                table.name
            )));
        }
        // A column only PostgreSQL has: an identity column takes SQLite's rowid
        // (the order rows were written in, which it stands for); any other is
        // left to its default (`deliveries.claimed_by`, NULL).
        let select: Vec<String> = table
            .columns
            .iter()
            .map(|c| {
                if present.contains(&c.name) {
                    format!("\"{}\"", c.name)
                } else if c.identity {
                    "rowid".to_owned()
                } else {
                    "NULL".to_owned()
                }
            })
            .collect();
        let mut statement = conn.prepare(&format!(
            "SELECT {} FROM \"{}\"",
            select.join(", "),
            table.name
        ))?;
        let mut rows = statement.query([])?;
        let mut count = 0u64;
        while let Some(row) = rows.next()? {
            let mut cells = Vec::with_capacity(table.columns.len());
            for (i, column) in table.columns.iter().enumerate() {
                cells.push(cell(row.get_ref(i)?, column.kind).ok_or_else(|| {
                    StoreError::Invalid(format!(
                        "{}.{} holds a {:?} value, not {}",
                        table.name,
                        column.name,
                        row.get_ref(i).map(|v| v.data_type()).ok(),
                        column.kind.pg_type()
                    ))
                })?);
            }
            count += 1;
            if out.blocking_send(Ok(Item::Row(cells))).is_err() {
                return Ok(()); // the copy failed on its side and said why
            }
        }
        if out.blocking_send(Ok(Item::End { rows: count })).is_err() {
            return Ok(());
        }
    }
    conn.execute_batch("COMMIT")?;
    Ok(())
}

/// `value` as a column of `kind` takes it; `None` for a value of another type.
/// Text stored as a blob (or a blob as text) is the same bytes either way.
fn cell(value: ValueRef<'_>, kind: Kind) -> Option<Cell> {
    Some(match (value, kind) {
        (ValueRef::Null, _) => Cell::Null,
        (ValueRef::Integer(v), Kind::Integer) => Cell::Integer(v),
        (ValueRef::Text(v) | ValueRef::Blob(v), Kind::Text) => {
            Cell::Text(String::from_utf8(v.to_vec()).ok()?)
        }
        (ValueRef::Blob(v) | ValueRef::Text(v), Kind::Bytes) => Cell::Bytes(v.to_vec()),
        _ => return None,
    })
}
