//! The buyer's mapping, read from the plugin config and checked once, before any
//! input is looked at; every problem is an `invalid-config` error naming the key.

use std::collections::BTreeMap;

use jembatan_plugin_sdk::values::{NumberFormat, unit};
use jembatan_plugin_sdk::{PluginError, parse_config};
use serde_json::{Map, Value};

use crate::path::Path;

/// What a canonical field holds, which decides how its input is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Date,
    Decimal,
    Currency,
    Unit,
    Country,
    /// A string or an array of strings.
    Notes,
}

/// The order fields a config may map, with their kinds. Required: the first three.
///
/// The names are canonical order v1's, kept so that buyers' configs keep working;
/// `map` puts each where canonical order v2 has it.
pub const ORDER_FIELDS: &[(&str, Kind)] = &[
    ("buyer_order_number", Kind::Text),
    ("issue_date", Kind::Date),
    ("supplier.code", Kind::Text),
    ("buyer.name", Kind::Text),
    ("currency", Kind::Currency),
    ("buyer.id", Kind::Text),
    ("buyer.tax_id", Kind::Text),
    ("buyer.contact.name", Kind::Text),
    ("buyer.contact.phone", Kind::Text),
    ("buyer.contact.email", Kind::Text),
    ("buyer.address.street", Kind::Text),
    ("buyer.address.additional_street", Kind::Text),
    ("buyer.address.city", Kind::Text),
    ("buyer.address.postal_code", Kind::Text),
    ("buyer.address.region", Kind::Text),
    ("buyer.address.country", Kind::Country),
    ("supplier.name", Kind::Text),
    ("delivery.requested_date", Kind::Date),
    ("delivery.address.street", Kind::Text),
    ("delivery.address.additional_street", Kind::Text),
    ("delivery.address.city", Kind::Text),
    ("delivery.address.postal_code", Kind::Text),
    ("delivery.address.region", Kind::Text),
    ("delivery.address.country", Kind::Country),
    ("notes", Kind::Notes),
    ("totals.line_extension", Kind::Decimal),
    ("totals.tax", Kind::Decimal),
    ("totals.payable", Kind::Decimal),
];
const REQUIRED_ORDER_FIELDS: usize = 3;

/// The line fields a config may map. Required: `quantity`.
pub const LINE_FIELDS: &[(&str, Kind)] = &[
    ("quantity", Kind::Decimal),
    ("line_number", Kind::Text),
    ("buyer_item_code", Kind::Text),
    ("supplier_item_code", Kind::Text),
    ("description", Kind::Text),
    ("unit", Kind::Unit),
    ("unit_price", Kind::Decimal),
    ("line_total", Kind::Decimal),
    ("requested_date", Kind::Date),
    ("note", Kind::Text),
];

/// Where a field's value comes from.
#[derive(Debug)]
pub enum Source {
    Path(Path),
    Const(String),
}

/// One mapped field.
#[derive(Debug)]
pub struct Field {
    /// The canonical name, e.g. `buyer.address.city`.
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub source: Source,
    /// Used when the path finds nothing (or `null`).
    pub default: Option<String>,
    /// chrono `strftime` format for a date written as a string.
    pub date_format: Option<String>,
    pub decimal_format: NumberFormat,
}

impl Field {
    /// The steps of the path it reads, when it reads one (not a constant).
    pub fn steps(&self) -> Option<&[String]> {
        match &self.source {
            Source::Path(path) => Some(path.steps()),
            Source::Const(_) => None,
        }
    }
}

/// The whole mapping.
#[derive(Debug)]
pub struct Config {
    /// Where the orders are: an array (one order each) or an object (one order).
    pub orders: Option<Path>,
    pub fields: Vec<Field>,
    /// Where the lines are, relative to the order: an array.
    pub lines: Path,
    pub line_fields: Vec<Field>,
    /// The buyer's unit → UN/ECE Rec 20, applied before the unit is checked.
    pub units: BTreeMap<String, String>,
    pub default_unit: String,
}

fn invalid(key: &str, problem: impl std::fmt::Display) -> PluginError {
    PluginError::new("invalid-config", format!("{key}: {problem}"))
        .at_path(format!("/{}", key.replace('.', "/")))
}

impl Config {
    /// Reads and checks the config text.
    pub fn parse(text: &str) -> Result<Self, PluginError> {
        let value: Value = parse_config(text)?;
        let root = value
            .as_object()
            .ok_or_else(|| invalid("", "the config must be an object"))?;
        known_keys(
            root,
            "",
            &[
                "orders",
                "fields",
                "lines",
                "units",
                "date_format",
                "decimal_format",
                "default_unit",
            ],
        )?;
        let date_format = opt_string(root, "", "date_format")?;
        if let Some(format) = &date_format {
            check_date_format(format).map_err(|e| invalid("date_format", e))?;
        }
        let decimal_format = match root.get("decimal_format") {
            Some(v) => number_format(v, "decimal_format")?,
            None => NumberFormat::default(),
        };
        let defaults = (date_format.as_deref(), &decimal_format);
        let fields_obj = object(root, "", "fields")?;
        let fields = read_fields(
            fields_obj,
            "fields",
            ORDER_FIELDS,
            REQUIRED_ORDER_FIELDS,
            defaults,
        )?;
        let lines_obj = object(root, "", "lines")?;
        known_keys(lines_obj, "lines", &["path", "fields"])?;
        let lines = Path::parse(&required_string(lines_obj, "lines", "path")?, true)
            .map_err(|e| invalid("lines.path", e))?;
        let line_fields = read_fields(
            object(lines_obj, "lines", "fields")?,
            "lines.fields",
            LINE_FIELDS,
            1,
            defaults,
        )?;
        let orders = opt_string(root, "", "orders")?
            .map(|p| Path::parse(&p, true).map_err(|e| invalid("orders", e)))
            .transpose()?;
        let mut units = BTreeMap::new();
        if let Some(table) = root.get("units") {
            let table = table
                .as_object()
                .ok_or_else(|| invalid("units", "must be an object"))?;
            for (from, to) in table {
                let key = format!("units.{from}");
                let to = to
                    .as_str()
                    .ok_or_else(|| invalid(&key, "must be a string"))?;
                units.insert(from.clone(), unit(to).map_err(|e| invalid(&key, e))?);
            }
        }
        let default_unit = match opt_string(root, "", "default_unit")? {
            Some(u) => unit(&u).map_err(|e| invalid("default_unit", e))?,
            None => crate::DEFAULT_UNIT.to_owned(),
        };
        Ok(Self {
            orders,
            fields,
            lines,
            line_fields,
            units,
            default_unit,
        })
    }
}

fn read_fields(
    map: &Map<String, Value>,
    key: &str,
    allowed: &[(&'static str, Kind)],
    required: usize,
    (date_format, decimal_format): (Option<&str>, &NumberFormat),
) -> Result<Vec<Field>, PluginError> {
    for name in map.keys() {
        if !allowed.iter().any(|(n, _)| n == name) {
            let names: Vec<_> = allowed.iter().map(|(n, _)| *n).collect();
            return Err(invalid(
                &format!("{key}.{name}"),
                format!(
                    "not a field that can be mapped; the fields are {}",
                    names.join(", ")
                ),
            ));
        }
    }
    let mut out = Vec::new();
    for (i, &(name, kind)) in allowed.iter().enumerate() {
        let field_key = format!("{key}.{name}");
        let Some(spec) = map.get(name) else {
            if i < required {
                return Err(invalid(&field_key, "is required: say where it comes from"));
            }
            continue;
        };
        let mut field = Field {
            name,
            kind,
            required: i < required,
            source: Source::Const(String::new()),
            default: None,
            date_format: date_format.map(str::to_owned),
            decimal_format: decimal_format.clone(),
        };
        match spec {
            Value::String(path) => {
                field.source =
                    Source::Path(Path::parse(path, false).map_err(|e| invalid(&field_key, e))?)
            }
            Value::Object(spec) => {
                known_keys(
                    spec,
                    &field_key,
                    &["path", "const", "default", "date_format", "decimal_format"],
                )?;
                field.source = match (
                    opt_string(spec, &field_key, "path")?,
                    opt_string(spec, &field_key, "const")?,
                ) {
                    (Some(path), None) => Source::Path(
                        Path::parse(&path, false)
                            .map_err(|e| invalid(&format!("{field_key}.path"), e))?,
                    ),
                    (None, Some(constant)) => Source::Const(constant),
                    _ => {
                        return Err(invalid(
                            &field_key,
                            "needs exactly one of \"path\" and \"const\"",
                        ));
                    }
                };
                field.default = opt_string(spec, &field_key, "default")?;
                if let Some(format) = opt_string(spec, &field_key, "date_format")? {
                    check_date_format(&format)
                        .map_err(|e| invalid(&format!("{field_key}.date_format"), e))?;
                    field.date_format = Some(format);
                }
                if let Some(format) = spec.get("decimal_format") {
                    field.decimal_format =
                        number_format(format, &format!("{field_key}.decimal_format"))?;
                }
            }
            _ => return Err(invalid(&field_key, "must be a path string or an object")),
        }
        // Constants and defaults are read like input, so a bad one fails now.
        for (what, text) in [
            ("const", source_const(&field.source)),
            ("default", field.default.as_deref()),
        ] {
            if let Some(text) = text {
                crate::map::check_constant(&field, text)
                    .map_err(|e| invalid(&format!("{field_key}.{what}"), e))?;
            }
        }
        out.push(field);
    }
    Ok(out)
}

fn source_const(source: &Source) -> Option<&str> {
    match source {
        Source::Const(c) => Some(c),
        Source::Path(_) => None,
    }
}

fn known_keys(map: &Map<String, Value>, key: &str, known: &[&str]) -> Result<(), PluginError> {
    match map.keys().find(|k| !known.contains(&k.as_str())) {
        Some(unknown) => Err(invalid(
            &join(key, unknown),
            format!("unknown key; expected one of {}", known.join(", ")),
        )),
        None => Ok(()),
    }
}

fn join(key: &str, name: &str) -> String {
    if key.is_empty() {
        name.to_owned()
    } else {
        format!("{key}.{name}")
    }
}

fn object<'m>(
    map: &'m Map<String, Value>,
    key: &str,
    name: &str,
) -> Result<&'m Map<String, Value>, PluginError> {
    map.get(name)
        .ok_or_else(|| invalid(&join(key, name), "is required"))?
        .as_object()
        .ok_or_else(|| invalid(&join(key, name), "must be an object"))
}

fn opt_string(
    map: &Map<String, Value>,
    key: &str,
    name: &str,
) -> Result<Option<String>, PluginError> {
    match map.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(&join(key, name), "must be a string")),
    }
}

fn required_string(map: &Map<String, Value>, key: &str, name: &str) -> Result<String, PluginError> {
    opt_string(map, key, name)?.ok_or_else(|| invalid(&join(key, name), "is required"))
}

/// `{"thousands": ".", "decimal": ",", "symbol": "Rp"}`; `thousands` and `symbol`
/// optional, `decimal` defaults to `.`.
fn number_format(value: &Value, key: &str) -> Result<NumberFormat, PluginError> {
    let map = value.as_object().ok_or_else(|| {
        invalid(
            key,
            "must be an object like {\"thousands\": \".\", \"decimal\": \",\"}",
        )
    })?;
    known_keys(map, key, &["thousands", "decimal", "symbol"])?;
    let one_char = |name: &str| -> Result<Option<char>, PluginError> {
        let Some(text) = opt_string(map, key, name)? else {
            return Ok(None);
        };
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if !c.is_ascii_digit() => Ok(Some(c)),
            _ => Err(invalid(
                &format!("{key}.{name}"),
                "must be one character, not a digit",
            )),
        }
    };
    let format = NumberFormat {
        thousands: one_char("thousands")?,
        decimal: one_char("decimal")?.unwrap_or('.'),
        symbol: opt_string(map, key, "symbol")?,
    };
    if format.thousands == Some(format.decimal) {
        return Err(invalid(
            key,
            "the thousands separator and the decimal mark must differ",
        ));
    }
    Ok(format)
}

/// A chrono format that names a year, a month and a day.
fn check_date_format(format: &str) -> Result<(), String> {
    use chrono::format::{Item, StrftimeItems};
    if StrftimeItems::new(format).any(|item| matches!(item, Item::Error)) {
        return Err(format!("{format:?} is not a valid strftime format"));
    }
    let has = |spec: &[&str]| spec.iter().any(|s| format.contains(s));
    if !(has(&["%Y", "%y", "%F", "%C"])
        && has(&["%m", "%b", "%B", "%h", "%F"])
        && has(&["%d", "%e", "%F"]))
    {
        return Err(format!(
            "{format:?} must name a year, a month and a day, like \"%d/%m/%Y\""
        ));
    }
    Ok(())
}
