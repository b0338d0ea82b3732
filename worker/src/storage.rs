//! What every SQLite-backed object needs from its storage: a schema that appears with the
//! object's first write (never with a read), and writes that commit or roll back as one.

use std::cell::Cell;

use serde::Deserialize;
use worker::wasm_bindgen::closure::Closure;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::{Result, SqlStorage, Storage, js_sys};

/// A schema created by the object's first write. Anyone can address an object by name (an
/// unknown run id, a made-up key's organisation), so creating tables in the constructor would let
/// every guess leave a database on disk; reads of an object without its tables answer "nothing
/// here" and write nothing.
pub struct LazySchema {
    /// The table whose presence says the schema was created.
    marker: &'static str,
    statements: &'static [&'static str],
    /// Known to exist in this instance (it never disappears once created).
    ready: Cell<bool>,
}

#[derive(Deserialize)]
struct Found {
    #[allow(dead_code)]
    found: i64,
}

impl LazySchema {
    pub const fn new(marker: &'static str, statements: &'static [&'static str]) -> Self {
        Self {
            marker,
            statements,
            ready: Cell::new(false),
        }
    }

    /// Whether this object holds anything. The first call in an instance reads the catalogue
    /// and, when the schema exists, brings it up to date (every statement is idempotent).
    pub fn exists(&self, sql: &SqlStorage) -> Result<bool> {
        if self.ready.get() {
            return Ok(true);
        }
        let found = !sql
            .exec(
                "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?",
                vec![self.marker.into()],
            )?
            .to_array::<Found>()?
            .is_empty();
        if found {
            self.create(sql)?;
        }
        Ok(found)
    }

    /// Creates (or updates) the schema: only on a write that keeps something.
    pub fn create(&self, sql: &SqlStorage) -> Result<()> {
        if self.ready.get() {
            return Ok(());
        }
        for statement in self.statements {
            sql.exec(statement, None)?;
        }
        self.ready.set(true);
        Ok(())
    }

    /// After a rolled-back write (which may have created the schema): look again next time.
    pub fn forget(&self) {
        self.ready.set(false);
    }
}

/// Runs `body` inside `storage.transactionSync`, so a failure part-way through a multi-statement
/// write rolls all of it back (workerd's implicit transaction would commit the part before the
/// failure).
pub fn transaction_sync<T>(storage: &Storage, body: impl FnOnce() -> Result<T>) -> Result<T> {
    let raw: &JsValue = storage.as_raw();
    let func: js_sys::Function = js_sys::Reflect::get(raw, &JsValue::from_str("transactionSync"))?
        .dyn_into()
        .map_err(|_| worker::Error::from("storage.transactionSync is not a function"))?;
    let mut body = Some(body);
    let mut out: Option<Result<T>> = None;
    let mut run = || -> std::result::Result<(), JsValue> {
        let Some(body) = body.take() else {
            return Err(JsValue::from_str("transaction body called twice"));
        };
        let result = body();
        // Throwing makes transactionSync roll back.
        let thrown = result
            .as_ref()
            .err()
            .map(|e| JsValue::from_str(&e.to_string()));
        out = Some(result);
        thrown.map_or(Ok(()), Err)
    };
    let called = {
        let callback =
            Closure::<dyn FnMut() -> std::result::Result<(), JsValue>>::borrow_mut_aborting(
                &mut run,
            );
        func.call1(raw, callback.as_js_value())
    };
    match (called, out) {
        (Ok(_), Some(result)) => result,
        (Err(_), Some(Err(e))) => Err(e),
        (Err(e), Some(Ok(_)) | None) => Err(e.into()),
        (Ok(_), None) => Err("transaction body did not run".into()),
    }
}
