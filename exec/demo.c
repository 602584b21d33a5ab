/* demo: building the sample database (see demo.h). */
#include "exec/demo.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char schema[] =
    "CREATE TABLE customers ("
    "  id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE,"
    "  country TEXT NOT NULL, created_at TEXT NOT NULL);"
    "CREATE TABLE products ("
    "  id INTEGER PRIMARY KEY, name TEXT NOT NULL, category TEXT NOT NULL,"
    "  price REAL NOT NULL);"
    "CREATE TABLE orders ("
    "  id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id),"
    "  product_id INTEGER NOT NULL REFERENCES products(id), quantity INTEGER NOT NULL,"
    "  total REAL NOT NULL, status TEXT NOT NULL, ordered_at TEXT NOT NULL);"
    "CREATE INDEX orders_customer ON orders(customer_id);"
    /* empty: what the retry-safe submission example of docs/api.md writes to */
    "CREATE TABLE orders_log (order_id INTEGER NOT NULL);";

static const char *const first[] = {"Ada",   "Grace",  "Alan",   "Edsger", "Barbara", "Donald",
                                    "Frances", "Ken",  "Margaret", "Dennis", "Radia", "Leslie",
                                    "Tim",   "Sophie", "Linus",  "Hedy",   "John",    "Niklaus",
                                    "Anita", "Jean"};
static const char *const last[] = {"Lovelace", "Hopper",   "Turing",  "Dijkstra", "Liskov",
                                   "Knuth",    "Allen",    "Thompson", "Hamilton", "Ritchie",
                                   "Perlman",  "Lamport",  "Berners-Lee", "Wilson", "Torvalds",
                                   "Lamarr",   "Backus",   "Wirth",   "Borg",     "Sammet"};
static const char *const countries[] = {"GB", "US", "NL", "DE", "FR", "CH", "FI", "NO", "JP", "BR"};

static const struct {
    const char *name, *category;
    double price;
} products[] = {
    {"Mechanical keyboard", "peripherals", 89.90}, {"Trackball", "peripherals", 54.50},
    {"27-inch monitor", "displays", 279.00},       {"Laptop stand", "accessories", 39.95},
    {"USB-C dock", "accessories", 129.00},         {"Noise-cancelling headset", "audio", 199.99},
    {"Webcam", "peripherals", 69.00},              {"Desk lamp", "furniture", 45.25},
    {"Standing desk", "furniture", 549.00},        {"Ergonomic chair", "furniture", 389.00},
    {"External SSD 1TB", "storage", 109.90},       {"Cable organiser", "accessories", 12.49},
};

static const char *const statuses[] = {"placed", "paid", "shipped", "delivered", "delivered",
                                       "delivered", "returned", "cancelled"};

/* A fixed-seed generator, so every demo database holds the same rows. */
static unsigned
next_rand(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) & 0x7fff;
}

static void
lower_copy(char *out, size_t n, const char *a, const char *b)
{
    snprintf(out, n, "%s.%s", a, b);
    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
}

static int
fill(sqlite3 *db)
{
    char sql[512];
    unsigned seed = 20261123u;
    if (sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    for (int i = 0; i < 20; i++) {
        char email[64];
        lower_copy(email, sizeof(email), first[i], last[i]);
        snprintf(sql, sizeof(sql),
                 "INSERT INTO customers VALUES(%d,'%s %s','%s@example.com','%s',"
                 "'2025-%02d-%02dT%02d:%02d:00Z')",
                 i + 1, first[i], last[i], email, countries[i % 10], i % 12 + 1, i % 28 + 1,
                 (i * 7) % 24, (i * 13) % 60);
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
            return -1;
    }
    size_t np = sizeof(products) / sizeof(products[0]);
    for (size_t i = 0; i < np; i++) {
        snprintf(sql, sizeof(sql), "INSERT INTO products VALUES(%zu,'%s','%s',%.2f)", i + 1,
                 products[i].name, products[i].category, products[i].price);
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
            return -1;
    }
    for (int i = 0; i < 250; i++) {
        int cust = (int)(next_rand(&seed) % 20) + 1;
        size_t prod = next_rand(&seed) % np;
        int qty = (int)(next_rand(&seed) % 4) + 1;
        const char *st = statuses[next_rand(&seed) % 8];
        int day = (int)(next_rand(&seed) % 28) + 1;
        int hour = (int)(next_rand(&seed) % 24);
        int min = (int)(next_rand(&seed) % 60);
        int sec = (int)(next_rand(&seed) % 60);
        snprintf(sql, sizeof(sql),
                 "INSERT INTO orders VALUES(%d,%d,%zu,%d,%.2f,'%s',"
                 "'2026-%02d-%02dT%02d:%02d:%02dZ')",
                 i + 1, cust, prod + 1, qty, products[prod].price * qty, st, i * 10 / 250 + 1,
                 day, hour, min, sec);
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
            return -1;
    }
    return 0;
}

int
exec_demo_ensure(const char *path, qg_error *err)
{
    if (access(path, F_OK) == 0)
        return 0;
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    unlink(tmp);
    sqlite3 *db = NULL;
    char msg[512];
    if (sqlite3_open(tmp, &db) != SQLITE_OK) {
        snprintf(msg, sizeof(msg), "cannot create demo database %.300s: %s", tmp,
                 db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return qg_error_set(err, QG_E_BACKEND, msg);
    }
    int rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK && fill(db) == 0 &&
                     sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK
                 ? 0
                 : -1;
    if (rc != 0)
        snprintf(msg, sizeof(msg), "cannot fill demo database: %s", sqlite3_errmsg(db));
    sqlite3_close(db);
    if (rc == 0 && rename(tmp, path) != 0) {
        snprintf(msg, sizeof(msg), "cannot rename %.300s: %m", tmp);
        rc = -1;
    }
    if (rc != 0) {
        unlink(tmp);
        return qg_error_set(err, QG_E_BACKEND, msg);
    }
    return 0;
}
