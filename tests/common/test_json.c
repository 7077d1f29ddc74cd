/* Tests for the typed JSON reader and builder: every getter, every distinct error, caps. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/json_priv.h"
#include "common/limits.h"
#include "tests/test.h"

static ms_json_doc *parse_ok(const char *text)
{
    ms_json_doc *doc = NULL;
    CHECK_OK(ms_json_parse(text, strlen(text), &doc));
    return doc;
}

static ms_err parse_err(const char *text, size_t len)
{
    ms_json_doc *doc = (ms_json_doc *)1;
    ms_err e = ms_json_parse(text, len, &doc);
    if (e != MS_OK) {
        CHECK(doc == NULL);
    }
    ms_json_free(e == MS_OK ? doc : NULL);
    return e;
}

#define PARSE_ERR(lit, want) CHECK_ERR(parse_err(lit, sizeof(lit) - 1), want)
#define PARSE_OK(lit) CHECK_ERR(parse_err(lit, sizeof(lit) - 1), MS_OK)

static const char sample[] =
    "{\"s\":\"hello\",\"b\":true,\"f\":false,\"i\":-42,\"u\":42,\"d\":1.5,"
    "\"o\":{\"x\":1},\"a\":[1,2,3],\"e\":\"beta\",\"n\":null,\"empty\":\"\"}";

static const char *const greek[] = {"alpha", "beta", "gamma"};

static void test_get_str(void)
{
    ms_json_doc *doc = parse_ok(sample);
    ms_json_val r = ms_json_root(doc);
    const char *s = "x";
    size_t n = 9;
    CHECK_OK(ms_json_get_str(r, "s", 5, &s, &n));
    CHECK(n == 5 && strcmp(s, "hello") == 0);
    CHECK_ERR(ms_json_get_str(r, "s", 4, &s, &n), MS_ERR_JSON_TOO_LONG);
    CHECK(s == NULL && n == 0);
    CHECK_ERR(ms_json_get_str(r, "i", 100, &s, &n), MS_ERR_JSON_TYPE);
    CHECK_ERR(ms_json_get_str(r, "n", 100, &s, &n), MS_ERR_JSON_TYPE);
    CHECK_ERR(ms_json_get_str(r, "zz", 100, &s, &n), MS_ERR_JSON_MISSING);
    CHECK_ERR(ms_json_get_str(r, "S", 100, &s, &n), MS_ERR_JSON_MISSING);
    CHECK_ERR(ms_json_get_str(r, NULL, 100, &s, &n), MS_ERR_ARG);
    CHECK_OK(ms_json_get_str(r, "empty", 0, &s, &n));
    CHECK(n == 0 && s != NULL && s[0] == '\0');
    CHECK_OK(ms_json_get_str(r, "s", SIZE_MAX, &s, &n));
    ms_json_free(doc);
}

static void test_get_bool(void)
{
    ms_json_doc *doc = parse_ok(sample);
    ms_json_val r = ms_json_root(doc);
    bool b = false;
    CHECK_OK(ms_json_get_bool(r, "b", &b));
    CHECK(b == true);
    CHECK_OK(ms_json_get_bool(r, "f", &b));
    CHECK(b == false);
    b = true;
    CHECK_ERR(ms_json_get_bool(r, "i", &b), MS_ERR_JSON_TYPE);
    CHECK(b == false);
    CHECK_ERR(ms_json_get_bool(r, "s", &b), MS_ERR_JSON_TYPE);
    CHECK_ERR(ms_json_get_bool(r, "n", &b), MS_ERR_JSON_TYPE);
    CHECK_ERR(ms_json_get_bool(r, "B", &b), MS_ERR_JSON_MISSING);
    ms_json_free(doc);
}

static void test_get_integers(void)
{
    ms_json_doc *doc = parse_ok(sample);
    ms_json_val r = ms_json_root(doc);
    int64_t i = 7;
    uint64_t u = 7;
    CHECK_OK(ms_json_get_i64(r, "i", -100, 100, &i));
    CHECK(i == -42);
    CHECK_OK(ms_json_get_i64(r, "i", -42, -42, &i));
    CHECK_ERR(ms_json_get_i64(r, "i", -41, 100, &i), MS_ERR_JSON_RANGE);
    CHECK(i == 0);
    CHECK_ERR(ms_json_get_i64(r, "i", -100, -43, &i), MS_ERR_JSON_RANGE);
    CHECK_ERR(ms_json_get_i64(r, "d", -100, 100, &i), MS_ERR_JSON_RANGE);
    CHECK_ERR(ms_json_get_i64(r, "s", -100, 100, &i), MS_ERR_JSON_TYPE);
    CHECK_ERR(ms_json_get_i64(r, "b", -100, 100, &i), MS_ERR_JSON_TYPE);
    CHECK_ERR(ms_json_get_i64(r, "q", -100, 100, &i), MS_ERR_JSON_MISSING);
    CHECK_ERR(ms_json_get_i64(r, "i", 5, 4, &i), MS_ERR_ARG);
    CHECK_OK(ms_json_get_u64(r, "u", 42, &u));
    CHECK(u == 42);
    CHECK_ERR(ms_json_get_u64(r, "u", 41, &u), MS_ERR_JSON_RANGE);
    CHECK(u == 0);
    CHECK_ERR(ms_json_get_u64(r, "i", UINT64_MAX, &u), MS_ERR_JSON_RANGE);
    CHECK_ERR(ms_json_get_u64(r, "d", UINT64_MAX, &u), MS_ERR_JSON_RANGE);
    CHECK_ERR(ms_json_get_u64(r, "e", UINT64_MAX, &u), MS_ERR_JSON_TYPE);
    CHECK_ERR(ms_json_get_u64(r, "q", UINT64_MAX, &u), MS_ERR_JSON_MISSING);
    ms_json_free(doc);
}

static void test_get_double(void)
{
    ms_json_doc *doc = parse_ok(sample);
    ms_json_val r = ms_json_root(doc);
    double d = 7;
    CHECK_OK(ms_json_get_double(r, "d", 0, 2, &d));
    CHECK(d == 1.5);
    CHECK_OK(ms_json_get_double(r, "d", 1.5, 1.5, &d));
    CHECK_ERR(ms_json_get_double(r, "d", 0, 1, &d), MS_ERR_JSON_RANGE);
    CHECK(d == 0);
    CHECK_ERR(ms_json_get_double(r, "d", 2, 3, &d), MS_ERR_JSON_RANGE);
    CHECK_OK(ms_json_get_double(r, "i", -DBL_MAX, DBL_MAX, &d));
    CHECK(d == -42);
    CHECK_ERR(ms_json_get_double(r, "s", 0, 2, &d), MS_ERR_JSON_TYPE);
    CHECK_ERR(ms_json_get_double(r, "q", 0, 2, &d), MS_ERR_JSON_MISSING);
    CHECK_ERR(ms_json_get_double(r, "d", 2, 1, &d), MS_ERR_ARG);
    CHECK_ERR(ms_json_get_double(r, "d", NAN, 1, &d), MS_ERR_ARG);
    ms_json_free(doc);
}

static void test_get_obj_arr(void)
{
    ms_json_doc *doc = parse_ok(sample);
    ms_json_val r = ms_json_root(doc), o, a, e;
    size_t n = 9;
    int64_t x;
    CHECK_OK(ms_json_get_obj(r, "o", &o));
    CHECK_OK(ms_json_get_i64(o, "x", 0, 10, &x));
    CHECK(x == 1);
    CHECK_ERR(ms_json_get_obj(r, "a", &o), MS_ERR_JSON_TYPE);
    CHECK(ms_json_type_of(o) == MS_JSON_ABSENT);
    CHECK_ERR(ms_json_get_obj(r, "s", &o), MS_ERR_JSON_TYPE);
    CHECK_ERR(ms_json_get_obj(r, "q", &o), MS_ERR_JSON_MISSING);
    CHECK_OK(ms_json_get_arr(r, "a", 3, &a, &n));
    CHECK(n == 3);
    CHECK_ERR(ms_json_get_arr(r, "a", 2, &a, &n), MS_ERR_JSON_TOO_LONG);
    CHECK(n == 0 && ms_json_type_of(a) == MS_JSON_ABSENT);
    CHECK_ERR(ms_json_get_arr(r, "o", 10, &a, &n), MS_ERR_JSON_TYPE);
    CHECK_ERR(ms_json_get_arr(r, "q", 10, &a, &n), MS_ERR_JSON_MISSING);
    CHECK_OK(ms_json_get_arr(r, "a", 100, &a, &n));
    for (size_t i = 0; i < 3; i++) {
        CHECK_OK(ms_json_arr_at(a, i, &e));
        CHECK_OK(ms_json_as_i64(e, 0, 10, &x));
        CHECK(x == (int64_t)i + 1);
    }
    CHECK_ERR(ms_json_arr_at(a, 3, &e), MS_ERR_JSON_MISSING);
    CHECK_ERR(ms_json_arr_at(a, SIZE_MAX, &e), MS_ERR_JSON_MISSING);
    CHECK_ERR(ms_json_arr_at(r, 0, &e), MS_ERR_JSON_TYPE);
    /* Getters by key on something that is not an object. */
    CHECK_ERR(ms_json_get_i64(a, "x", 0, 10, &x), MS_ERR_JSON_TYPE);
    ms_json_free(doc);
}

static void test_get_enum(void)
{
    ms_json_doc *doc = parse_ok(sample);
    ms_json_val r = ms_json_root(doc);
    size_t idx = 9;
    static const char *const upper[] = {"ALPHA", "BETA"};
    static const char *const other[] = {"alpha", "gamma"};
    CHECK_OK(ms_json_get_enum(r, "e", greek, 3, &idx));
    CHECK(idx == 1);
    CHECK_ERR(ms_json_get_enum(r, "e", other, 2, &idx), MS_ERR_JSON_ENUM);
    CHECK(idx == 0);
    CHECK_ERR(ms_json_get_enum(r, "e", upper, 2, &idx), MS_ERR_JSON_ENUM);
    CHECK_ERR(ms_json_get_enum(r, "e", greek, 1, &idx), MS_ERR_JSON_ENUM);
    CHECK_ERR(ms_json_get_enum(r, "e", NULL, 0, &idx), MS_ERR_JSON_ENUM);
    CHECK_ERR(ms_json_get_enum(r, "e", NULL, 1, &idx), MS_ERR_ARG);
    CHECK_ERR(ms_json_get_enum(r, "i", greek, 3, &idx), MS_ERR_JSON_TYPE);
    CHECK_ERR(ms_json_get_enum(r, "q", greek, 3, &idx), MS_ERR_JSON_MISSING);
    /* A prefix of an allowed value is not that value. */
    ms_json_doc *d2 = parse_ok("{\"e\":\"bet\"}");
    CHECK_ERR(ms_json_get_enum(ms_json_root(d2), "e", greek, 3, &idx), MS_ERR_JSON_ENUM);
    ms_json_free(d2);
    ms_json_free(doc);
}

static void test_opt_getters(void)
{
    ms_json_doc *doc = parse_ok(sample);
    ms_json_val r = ms_json_root(doc);
    const char *s;
    size_t n, idx;
    bool b;
    int64_t i;
    uint64_t u;
    double d;
    CHECK_OK(ms_json_get_str_opt(r, "q", 10, "dflt", &s, &n));
    CHECK(strcmp(s, "dflt") == 0 && n == 4);
    CHECK_OK(ms_json_get_str_opt(r, "s", 10, "dflt", &s, &n));
    CHECK(strcmp(s, "hello") == 0 && n == 5);
    CHECK_ERR(ms_json_get_str_opt(r, "s", 2, "dflt", &s, &n), MS_ERR_JSON_TOO_LONG);
    CHECK_ERR(ms_json_get_str_opt(r, "i", 10, "dflt", &s, &n), MS_ERR_JSON_TYPE);
    CHECK_OK(ms_json_get_str_opt(r, "q", 10, NULL, &s, &n));
    CHECK(s == NULL && n == 0);
    CHECK_OK(ms_json_get_bool_opt(r, "q", true, &b));
    CHECK(b == true);
    CHECK_OK(ms_json_get_bool_opt(r, "f", true, &b));
    CHECK(b == false);
    CHECK_ERR(ms_json_get_bool_opt(r, "n", true, &b), MS_ERR_JSON_TYPE);
    CHECK_OK(ms_json_get_i64_opt(r, "q", 0, 10, 5, &i));
    CHECK(i == 5);
    CHECK_ERR(ms_json_get_i64_opt(r, "i", 0, 10, 5, &i), MS_ERR_JSON_RANGE);
    CHECK_ERR(ms_json_get_i64_opt(r, "s", 0, 10, 5, &i), MS_ERR_JSON_TYPE);
    CHECK_OK(ms_json_get_u64_opt(r, "q", 10, 3, &u));
    CHECK(u == 3);
    CHECK_OK(ms_json_get_u64_opt(r, "u", 100, 3, &u));
    CHECK(u == 42);
    CHECK_ERR(ms_json_get_u64_opt(r, "d", 100, 3, &u), MS_ERR_JSON_RANGE);
    CHECK_OK(ms_json_get_double_opt(r, "q", 0, 1, 0.25, &d));
    CHECK(d == 0.25);
    CHECK_ERR(ms_json_get_double_opt(r, "b", 0, 1, 0.25, &d), MS_ERR_JSON_TYPE);
    CHECK_OK(ms_json_get_enum_opt(r, "q", greek, 3, 2, &idx));
    CHECK(idx == 2);
    CHECK_ERR(ms_json_get_enum_opt(r, "s", greek, 3, 2, &idx), MS_ERR_JSON_ENUM);
    ms_json_free(doc);
}

static void test_opt_containers(void)
{
    ms_json_doc *doc = parse_ok(sample);
    ms_json_val r = ms_json_root(doc), o, a;
    size_t n;
    int64_t i;
    CHECK_OK(ms_json_get_arr_opt(r, "q", 10, &a, &n));
    CHECK(n == 0 && ms_json_type_of(a) == MS_JSON_ABSENT);
    CHECK_ERR(ms_json_get_arr_opt(r, "a", 1, &a, &n), MS_ERR_JSON_TOO_LONG);
    CHECK_ERR(ms_json_get_arr_opt(r, "o", 10, &a, &n), MS_ERR_JSON_TYPE);
    CHECK_ERR(ms_json_get_obj_opt(r, "a", &o), MS_ERR_JSON_TYPE);
    CHECK_OK(ms_json_get_obj_opt(r, "q", &o));
    CHECK(ms_json_type_of(o) == MS_JSON_ABSENT);
    /* An absent optional object reads as empty: required keys missing, optional defaults. */
    CHECK_ERR(ms_json_get_i64(o, "x", 0, 10, &i), MS_ERR_JSON_MISSING);
    CHECK_OK(ms_json_get_i64_opt(o, "x", 0, 10, 9, &i));
    CHECK(i == 9);
    CHECK_ERR(ms_json_as_i64(o, 0, 10, &i), MS_ERR_JSON_MISSING);
    /* A parent that is present but not an object is still a type error. */
    CHECK_ERR(ms_json_get_i64_opt(ms_json_root(doc), "s", 0, 10, 9, &i), MS_ERR_JSON_TYPE);
    CHECK_OK(ms_json_get_arr(r, "a", 10, &a, &n));
    CHECK_ERR(ms_json_get_i64_opt(a, "x", 0, 10, 9, &i), MS_ERR_JSON_TYPE);
    ms_json_free(doc);
}

static void test_integer_edges(void)
{
    ms_json_doc *doc = parse_ok("{\"half\":1.5,\"huge\":1e300,\"neg\":-1,"
                                "\"p53p1\":9007199254740993,\"p53\":9007199254740992,"
                                "\"safe\":9007199254740991,\"nsafe\":-9007199254740991,"
                                "\"nsafem1\":-9007199254740992,\"one\":1.0,"
                                "\"nzero\":-0,\"hundred\":1E2,\"tiny\":1e-300}");
    ms_json_val r = ms_json_root(doc);
    int64_t i;
    uint64_t u;
    double d;
    CHECK_ERR(ms_json_get_i64(r, "half", INT64_MIN, INT64_MAX, &i), MS_ERR_JSON_RANGE);
    CHECK_ERR(ms_json_get_u64(r, "half", UINT64_MAX, &u), MS_ERR_JSON_RANGE);
    CHECK_ERR(ms_json_get_i64(r, "huge", INT64_MIN, INT64_MAX, &i), MS_ERR_JSON_RANGE);
    CHECK_ERR(ms_json_get_u64(r, "huge", UINT64_MAX, &u), MS_ERR_JSON_RANGE);
    CHECK_OK(ms_json_get_double(r, "huge", -DBL_MAX, DBL_MAX, &d));
    CHECK(d == 1e300);
    CHECK_OK(ms_json_get_i64(r, "neg", INT64_MIN, INT64_MAX, &i));
    CHECK(i == -1);
    CHECK_ERR(ms_json_get_u64(r, "neg", UINT64_MAX, &u), MS_ERR_JSON_RANGE);
    CHECK_ERR(ms_json_get_u64(r, "p53p1", UINT64_MAX, &u), MS_ERR_JSON_RANGE);
    CHECK_ERR(ms_json_get_i64(r, "p53p1", INT64_MIN, INT64_MAX, &i), MS_ERR_JSON_RANGE);
    CHECK_ERR(ms_json_get_u64(r, "p53", UINT64_MAX, &u), MS_ERR_JSON_RANGE);
    CHECK_OK(ms_json_get_u64(r, "safe", UINT64_MAX, &u));
    CHECK(u == 9007199254740991ull);
    CHECK_OK(ms_json_get_i64(r, "nsafe", INT64_MIN, INT64_MAX, &i));
    CHECK(i == -9007199254740991ll);
    CHECK_ERR(ms_json_get_i64(r, "nsafem1", INT64_MIN, INT64_MAX, &i), MS_ERR_JSON_RANGE);
    CHECK_OK(ms_json_get_u64(r, "one", 1, &u));
    CHECK(u == 1);
    CHECK_OK(ms_json_get_u64(r, "nzero", 0, &u));
    CHECK(u == 0);
    CHECK_OK(ms_json_get_i64(r, "hundred", 100, 100, &i));
    CHECK_ERR(ms_json_get_i64(r, "tiny", INT64_MIN, INT64_MAX, &i), MS_ERR_JSON_RANGE);
    ms_json_free(doc);
    /* A number a double cannot hold (strtod's infinity) is refused by the parse itself: no
       getter could read it and no JSON text could say it back (a copied value, audit show). */
    const char *beyond[] = {"1e999", "-1e999", "[0,5e452]", "{\"a\":{\"b\":1E+400}}",
                            "2e308"};
    for (size_t k = 0; k < sizeof beyond / sizeof beyond[0]; k++) {
        CHECK_ERR(parse_err(beyond[k], strlen(beyond[k])), MS_ERR_JSON_RANGE);
    }
    doc = parse_ok("[1.7976931348623157e308,-1.7976931348623157e308,1e-400]");
    CHECK(doc != NULL);
    ms_json_free(doc);
}

/* n copies of `open`, a leaf, then n copies of `close`. */
static char *nested(size_t n, const char *open, const char *leaf, const char *close)
{
    size_t ol = strlen(open), ll = strlen(leaf), cl = strlen(close);
    char *s = malloc(n * (ol + cl) + ll + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(s + k, open, ol);
        k += ol;
    }
    memcpy(s + k, leaf, ll);
    k += ll;
    for (size_t i = 0; i < n; i++) {
        memcpy(s + k, close, cl);
        k += cl;
    }
    s[k] = '\0';
    return s;
}

static ms_err parse_nested(size_t n, const char *open, const char *leaf, const char *close)
{
    char *s = nested(n, open, leaf, close);
    ms_err e = parse_err(s, strlen(s));
    free(s);
    return e;
}

static void test_depth_cap(void)
{
    const size_t max = MS_MAX_JSON_DEPTH;
    CHECK_OK(parse_nested(max, "[", "1", "]"));
    CHECK_ERR(parse_nested(max + 1, "[", "1", "]"), MS_ERR_JSON_DEPTH);
    CHECK_OK(parse_nested(max, "[", "", "]"));
    CHECK_ERR(parse_nested(max + 1, "[", "", "]"), MS_ERR_JSON_DEPTH);
    CHECK_OK(parse_nested(max, "{\"a\":", "1", "}"));
    CHECK_ERR(parse_nested(max + 1, "{\"a\":", "1", "}"), MS_ERR_JSON_DEPTH);
    CHECK_OK(parse_nested(max - 1, "{\"a\":", "{}", "}"));
    CHECK_ERR(parse_nested(max, "{\"a\":", "{}", "}"), MS_ERR_JSON_DEPTH);
    /* Mixed: each step opens an array and an object. */
    CHECK_OK(parse_nested(max / 2, "[{\"k\":", "0", "}]"));
    CHECK_ERR(parse_nested(max / 2, "[{\"k\":", "[0]", "}]"), MS_ERR_JSON_DEPTH);
    /* Far beyond cJSON's own nesting limit (1000): still a depth error, no deep recursion. */
    CHECK_ERR(parse_nested(100000, "[", "", "]"), MS_ERR_JSON_DEPTH);
    /* Brackets inside strings do not count. */
    CHECK_OK(parse_nested(1, "[\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\",", "1", "]"));
    /* Siblings do not add up: 100 arrays side by side at depth 2. */
    char wide[512];
    size_t k = 0;
    wide[k++] = '[';
    for (int i = 0; i < 100; i++) {
        memcpy(wide + k, i ? ",[]" : "[]", i ? 3 : 2);
        k += i ? 3 : 2;
    }
    wide[k++] = ']';
    CHECK_OK(parse_err(wide, k));
}

static void test_duplicate_keys(void)
{
    PARSE_ERR("{\"a\":1,\"a\":2}", MS_ERR_JSON_PARSE);
    PARSE_ERR("{\"a\":1,\"b\":2,\"a\":1}", MS_ERR_JSON_PARSE);
    PARSE_ERR("{\"o\":{\"k\":1,\"k\":\"x\"}}", MS_ERR_JSON_PARSE);
    PARSE_ERR("[{\"k\":[{\"z\":1,\"z\":1}]}]", MS_ERR_JSON_PARSE);
    /* The same key spelled two ways is still the same key. */
    PARSE_ERR("{\"a\":1,\"\\u0061\":2}", MS_ERR_JSON_PARSE);
    PARSE_OK("{\"a\":1,\"A\":2}");
    PARSE_OK("[{\"a\":1},{\"a\":1}]");
    PARSE_OK("{\"a\":{\"a\":{\"a\":1}}}");
    PARSE_OK("{\"\":1,\"a\":2}");
    PARSE_ERR("{\"\":1,\"\":2}", MS_ERR_JSON_PARSE);
    /* Up to 8 keys are compared pair by pair, 9 and more sorted: both find the first and the
       last pair, and pass distinct keys. */
    PARSE_OK("{\"a\":1,\"b\":1,\"c\":1,\"d\":1,\"e\":1,\"f\":1,\"g\":1,\"h\":1}");
    PARSE_ERR("{\"a\":1,\"b\":1,\"c\":1,\"d\":1,\"e\":1,\"f\":1,\"g\":1,\"a\":1}",
              MS_ERR_JSON_PARSE);
    PARSE_ERR("{\"a\":1,\"b\":1,\"c\":1,\"d\":1,\"e\":1,\"f\":1,\"h\":1,\"h\":1}",
              MS_ERR_JSON_PARSE);
    PARSE_OK("{\"a\":1,\"b\":1,\"c\":1,\"d\":1,\"e\":1,\"f\":1,\"g\":1,\"h\":1,\"i\":1}");
    PARSE_ERR("{\"i\":1,\"b\":1,\"c\":1,\"d\":1,\"e\":1,\"f\":1,\"g\":1,\"h\":1,\"i\":1}",
              MS_ERR_JSON_PARSE);
    /* Many keys: the check is not quadratic, and finds a duplicate anywhere. */
    size_t n = 20000;
    char *big = malloc(n * 16 + 16);
    size_t k = 0;
    big[k++] = '{';
    for (size_t i = 0; i < n; i++) {
        k += (size_t)snprintf(big + k, 16, "%s\"k%zu\":0", i ? "," : "", i);
    }
    big[k++] = '}';
    CHECK_ERR(parse_err(big, k), MS_OK);
    k--;
    k += (size_t)snprintf(big + k, 16, ",\"k%zu\":1}", n / 2);
    CHECK_ERR(parse_err(big, k), MS_ERR_JSON_PARSE);
    free(big);
}

static void test_trailing_and_whole_text(void)
{
    PARSE_ERR("{} x", MS_ERR_JSON_PARSE);
    PARSE_ERR("{}{}", MS_ERR_JSON_PARSE);
    PARSE_ERR("1 2", MS_ERR_JSON_PARSE);
    PARSE_ERR("{}x", MS_ERR_JSON_PARSE);
    PARSE_ERR("[1]]", MS_ERR_JSON_PARSE);
    PARSE_ERR("{}\0", MS_ERR_JSON_PARSE);
    PARSE_ERR("{}\0\0", MS_ERR_JSON_PARSE);
    PARSE_ERR("", MS_ERR_JSON_PARSE);
    PARSE_ERR("   ", MS_ERR_JSON_PARSE);
    PARSE_ERR("[1,]", MS_ERR_JSON_PARSE);
    PARSE_ERR("{\"a\"}", MS_ERR_JSON_PARSE);
    PARSE_ERR("[", MS_ERR_JSON_PARSE);
    PARSE_ERR("]", MS_ERR_JSON_PARSE);
    PARSE_ERR("\"abc", MS_ERR_JSON_PARSE);
    PARSE_ERR("tru", MS_ERR_JSON_PARSE);
    PARSE_ERR("nul", MS_ERR_JSON_PARSE);
    PARSE_ERR("NaN", MS_ERR_JSON_PARSE);
    PARSE_ERR("Infinity", MS_ERR_JSON_PARSE);
    PARSE_ERR("[truex]", MS_ERR_JSON_PARSE);
    PARSE_OK("{} ");
    PARSE_OK(" \r\n\t{}\t\n ");
    PARSE_OK("true");
    PARSE_OK("null");
    PARSE_OK("\"s\"");
    PARSE_OK("-0");
    /* The text need not be NUL-terminated: only len bytes are read (ASan checks this). */
    const char src[] = "{\"a\":1}XYZ";
    char *exact = malloc(7);
    memcpy(exact, src, 7);
    ms_json_doc *doc = NULL;
    CHECK_OK(ms_json_parse(exact, 7, &doc));
    int64_t a = 0;
    CHECK_OK(ms_json_get_i64(ms_json_root(doc), "a", 0, 9, &a));
    CHECK(a == 1);
    ms_json_free(doc);
    CHECK_ERR(ms_json_parse(exact, 6, &doc), MS_ERR_JSON_PARSE);
    free(exact);
    CHECK_ERR(ms_json_parse(NULL, 1, &doc), MS_ERR_ARG);
    CHECK_ERR(ms_json_parse(NULL, 0, &doc), MS_ERR_JSON_PARSE);
}

/* Inputs cJSON 1.7.15 accepts (checked by hand) that RFC 8259 and this reader do not. */
static void test_lax_cjson_inputs_rejected(void)
{
    PARSE_ERR("01", MS_ERR_JSON_PARSE);
    PARSE_ERR("-01", MS_ERR_JSON_PARSE);
    PARSE_ERR("1.", MS_ERR_JSON_PARSE);
    PARSE_ERR("[1.e5]", MS_ERR_JSON_PARSE);
    PARSE_ERR("+1", MS_ERR_JSON_PARSE);
    PARSE_ERR(".5", MS_ERR_JSON_PARSE);
    PARSE_ERR("-", MS_ERR_JSON_PARSE);
    PARSE_ERR("1e", MS_ERR_JSON_PARSE);
    PARSE_ERR("1e+", MS_ERR_JSON_PARSE);
    PARSE_ERR("\x01{}", MS_ERR_JSON_PARSE);
    PARSE_ERR("{}\x01", MS_ERR_JSON_PARSE);
    PARSE_ERR("{\x0b}", MS_ERR_JSON_PARSE);
    PARSE_ERR("\xEF\xBB\xBF{}", MS_ERR_JSON_PARSE);
    PARSE_ERR("[\"a\tb\"]", MS_ERR_JSON_PARSE);
    PARSE_ERR("[\"a\x01" "b\"]", MS_ERR_JSON_PARSE);
    PARSE_ERR("[\"a\x7f\"]", MS_OK);
    PARSE_ERR("[\"\x80\"]", MS_ERR_JSON_PARSE);
    PARSE_ERR("[\"\xC0\xAF\"]", MS_ERR_JSON_PARSE);
    PARSE_ERR("[\"\xC2\"]", MS_ERR_JSON_PARSE);
    PARSE_ERR("[\"\xE0\x80\xAF\"]", MS_ERR_JSON_PARSE);
    PARSE_ERR("[\"\xED\xA0\x80\"]", MS_ERR_JSON_PARSE);
    PARSE_ERR("[\"\xF0\x80\x80\xAF\"]", MS_ERR_JSON_PARSE);
    PARSE_ERR("[\"\xF4\x90\x80\x80\"]", MS_ERR_JSON_PARSE);
    PARSE_ERR("[\"\xF5\x80\x80\x80\"]", MS_ERR_JSON_PARSE);
    PARSE_ERR("[\"\xE2\x82\"]", MS_ERR_JSON_PARSE);
    PARSE_ERR("[\"\\uzzzz\"]", MS_ERR_JSON_PARSE);
    PARSE_ERR("[\"\\u12\"]", MS_ERR_JSON_PARSE);
    PARSE_ERR("[\"\\x\"]", MS_ERR_JSON_PARSE);
    PARSE_ERR("[\"\\udc00\"]", MS_ERR_JSON_PARSE);
    PARSE_ERR("[\"\\ud800\"]", MS_ERR_JSON_PARSE);
    PARSE_ERR("[\"\\", MS_ERR_JSON_PARSE);
    /* Longest number token accepted is 63 characters. */
    PARSE_OK("[100000000000000000000000000000000000000000000000000000000000000]");
    PARSE_ERR("[1000000000000000000000000000000000000000000000000000000000000000]",
              MS_ERR_JSON_PARSE);
    PARSE_OK("[\"\xC2\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xEF\xBF\xBF\xF4\x8F\xBF\xBF\"]");
    PARSE_OK("[\"\\ud83d\\ude00\\u00e9\\/\\b\\f\\n\\r\\t\\\"\\\\\"]");
}

static void test_nul_in_strings(void)
{
    PARSE_ERR("{\"a\":\"x\\u0000y\"}", MS_ERR_JSON_PARSE);
    PARSE_ERR("{\"a\\u0000b\":1}", MS_ERR_JSON_PARSE);
    PARSE_ERR("\"\\u0000\"", MS_ERR_JSON_PARSE);
    PARSE_ERR("[\"\\u0000\"]", MS_ERR_JSON_PARSE);
    PARSE_ERR("{\"a\":\"x\0y\"}", MS_ERR_JSON_PARSE);
    /* An escaped backslash followed by "u0000" is text, not an escape. */
    ms_json_doc *doc = parse_ok("{\"a\":\"\\\\u0000\",\"b\":\"\\u0001\"}");
    const char *s;
    size_t n;
    CHECK_OK(ms_json_get_str(ms_json_root(doc), "a", 100, &s, &n));
    CHECK(n == 6 && strcmp(s, "\\u0000") == 0);
    CHECK_OK(ms_json_get_str(ms_json_root(doc), "b", 100, &s, &n));
    CHECK(n == 1 && s[0] == 1);
    ms_json_free(doc);
}

static void test_text_cap(void)
{
    size_t max = MS_MAX_JSON_TEXT;
    char *big = malloc(max + 1);
    CHECK(big != NULL);
    if (big == NULL) {
        return;
    }
    memset(big, ' ', max + 1);
    big[0] = '1';
    ms_json_doc *doc = NULL;
    CHECK_OK(ms_json_parse(big, max, &doc));
    ms_json_free(doc);
    CHECK_ERR(ms_json_parse(big, max + 1, &doc), MS_ERR_CAP_EXCEEDED);
    CHECK(doc == NULL);
    free(big);
}

static void test_iteration_and_types(void)
{
    ms_json_doc *doc = parse_ok(sample);
    ms_json_val r = ms_json_root(doc), v, a;
    const char *key;
    static const char *const keys[] = {"s", "b", "f", "i", "u", "d",
                                       "o", "a", "e", "n", "empty"};
    static const ms_json_type types[] = {
        MS_JSON_STRING, MS_JSON_BOOL,   MS_JSON_BOOL,   MS_JSON_NUMBER,
        MS_JSON_NUMBER, MS_JSON_NUMBER, MS_JSON_OBJECT, MS_JSON_ARRAY,
        MS_JSON_STRING, MS_JSON_NULL,   MS_JSON_STRING};
    size_t i = 0;
    ms_json_iter it = ms_json_iter_init(r);
    while (ms_json_iter_next(&it, &v, &key)) {
        CHECK(i < 11 && strcmp(key, keys[i]) == 0 && ms_json_type_of(v) == types[i]);
        i++;
    }
    CHECK(i == 11);
    CHECK(ms_json_type_of(r) == MS_JSON_OBJECT);
    CHECK(ms_json_type_of(ms_json_root(NULL)) == MS_JSON_ABSENT);
    size_t n;
    CHECK_OK(ms_json_get_arr(r, "a", 10, &a, &n));
    it = ms_json_iter_init(a);
    int64_t sum = 0, x;
    while (ms_json_iter_next(&it, &v, &key)) {
        CHECK(key == NULL);
        CHECK_OK(ms_json_as_i64(v, 0, 10, &x));
        sum += x;
    }
    CHECK(sum == 6);
    CHECK_OK(ms_json_get(r, "s", &v));
    it = ms_json_iter_init(v);
    CHECK(!ms_json_iter_next(&it, &v, NULL));
    CHECK(ms_json_type_of(v) == MS_JSON_ABSENT);
    CHECK_ERR(ms_json_get(r, "nope", &v), MS_ERR_JSON_MISSING);
    ms_json_free(doc);
    ms_json_free(NULL);
}

static void test_as_on_elements(void)
{
    ms_json_doc *doc = parse_ok("[\"beta\",true,3,2.5,{\"k\":1},[1,2],null]");
    ms_json_val r = ms_json_root(doc), e, o, a;
    size_t idx, n;
    const char *s;
    bool b;
    uint64_t u;
    double d;
    CHECK_OK(ms_json_arr_at(r, 0, &e));
    CHECK_OK(ms_json_as_enum(e, greek, 3, &idx));
    CHECK(idx == 1);
    CHECK_OK(ms_json_as_str(e, 4, &s, &n));
    CHECK_ERR(ms_json_as_str(e, 3, &s, &n), MS_ERR_JSON_TOO_LONG);
    CHECK_OK(ms_json_arr_at(r, 1, &e));
    CHECK_OK(ms_json_as_bool(e, &b));
    CHECK(b);
    CHECK_ERR(ms_json_as_enum(e, greek, 3, &idx), MS_ERR_JSON_TYPE);
    CHECK_OK(ms_json_arr_at(r, 2, &e));
    CHECK_OK(ms_json_as_u64(e, 3, &u));
    CHECK(u == 3);
    CHECK_OK(ms_json_arr_at(r, 3, &e));
    CHECK_OK(ms_json_as_double(e, 0, 3, &d));
    CHECK(d == 2.5);
    CHECK_ERR(ms_json_as_u64(e, 10, &u), MS_ERR_JSON_RANGE);
    CHECK_OK(ms_json_arr_at(r, 4, &e));
    CHECK_OK(ms_json_as_obj(e, &o));
    CHECK_ERR(ms_json_as_arr(e, 10, &a, &n), MS_ERR_JSON_TYPE);
    CHECK_OK(ms_json_arr_at(r, 5, &e));
    CHECK_OK(ms_json_as_arr(e, 2, &a, &n));
    CHECK(n == 2);
    CHECK_ERR(ms_json_as_arr(e, 1, &a, &n), MS_ERR_JSON_TOO_LONG);
    CHECK_ERR(ms_json_as_obj(e, &o), MS_ERR_JSON_TYPE);
    CHECK_OK(ms_json_arr_at(r, 6, &e));
    CHECK(ms_json_type_of(e) == MS_JSON_NULL);
    CHECK_ERR(ms_json_as_bool(e, &b), MS_ERR_JSON_TYPE);
    CHECK_ERR(ms_json_as_str(e, 10, &s, &n), MS_ERR_JSON_TYPE);
    ms_json_free(doc);
}

static ms_json_builder *build_sample(void)
{
    ms_json_builder *b = NULL;
    ms_json_wval root, o, a;
    static const char tricky[] = "q\"b\\s/\n\t\x01\x7f\xC3\xA9\xF0\x9F\x98\x80";
    CHECK_OK(ms_json_builder_new(MS_JSON_OBJECT, &b, &root));
    CHECK_OK(ms_json_add_cstr(root, "s", "hello"));
    CHECK_OK(ms_json_add_str(root, "t", tricky, sizeof tricky - 1));
    CHECK_OK(ms_json_add_str(root, "empty", NULL, 0));
    CHECK_OK(ms_json_add_i64(root, "max", 9007199254740991ll));
    CHECK_OK(ms_json_add_i64(root, "min", -9007199254740991ll));
    CHECK_OK(ms_json_add_u64(root, "u", 42));
    CHECK_OK(ms_json_add_double(root, "d", 0.1));
    CHECK_OK(ms_json_add_double(root, "big", 1e300));
    CHECK_OK(ms_json_add_double(root, "sub", 5e-324));
    CHECK_OK(ms_json_add_double(root, "third", 1.0 / 3.0));
    CHECK_OK(ms_json_add_bool(root, "yes", true));
    CHECK_OK(ms_json_add_null(root, "nothing"));
    CHECK_OK(ms_json_add_obj(root, "o", &o));
    CHECK_OK(ms_json_add_cstr(o, "mode", "gamma"));
    CHECK_OK(ms_json_add_arr(o, "list", &a));
    CHECK_OK(ms_json_add_i64(a, NULL, 1));
    CHECK_OK(ms_json_add_cstr(a, NULL, "two"));
    CHECK_OK(ms_json_add_bool(a, NULL, false));
    return b;
}

static void test_builder_round_trip(void)
{
    static const char tricky[] = "q\"b\\s/\n\t\x01\x7f\xC3\xA9\xF0\x9F\x98\x80";
    ms_json_builder *b = build_sample();
    ms_buf out;
    ms_buf_init(&out, 4096);
    CHECK_OK(ms_json_builder_print(b, &out));
    CHECK(memchr(out.p, '\n', out.len) == NULL);
    ms_json_doc *doc = NULL;
    CHECK_OK(ms_json_parse((const char *)out.p, out.len, &doc));
    ms_json_val r = ms_json_root(doc), o, a, e;
    const char *s;
    size_t n, idx;
    int64_t i;
    double d;
    bool flag;
    CHECK_OK(ms_json_get_str(r, "s", 100, &s, &n));
    CHECK(n == 5 && strcmp(s, "hello") == 0);
    CHECK_OK(ms_json_get_str(r, "t", 100, &s, &n));
    CHECK(n == sizeof tricky - 1 && memcmp(s, tricky, n) == 0);
    CHECK_OK(ms_json_get_str(r, "empty", 0, &s, &n));
    CHECK_OK(ms_json_get_i64(r, "max", INT64_MIN, INT64_MAX, &i));
    CHECK(i == 9007199254740991ll);
    CHECK_OK(ms_json_get_i64(r, "min", INT64_MIN, INT64_MAX, &i));
    CHECK(i == -9007199254740991ll);
    CHECK_OK(ms_json_get_double(r, "d", -DBL_MAX, DBL_MAX, &d));
    CHECK(d == 0.1);
    CHECK_OK(ms_json_get_double(r, "big", -DBL_MAX, DBL_MAX, &d));
    CHECK(d == 1e300);
    CHECK_OK(ms_json_get_double(r, "sub", -DBL_MAX, DBL_MAX, &d));
    CHECK(d == 5e-324);
    CHECK_OK(ms_json_get_double(r, "third", -DBL_MAX, DBL_MAX, &d));
    CHECK(d == 1.0 / 3.0);
    CHECK_OK(ms_json_get_bool(r, "yes", &flag));
    CHECK(flag);
    CHECK_OK(ms_json_get(r, "nothing", &e));
    CHECK(ms_json_type_of(e) == MS_JSON_NULL);
    CHECK_OK(ms_json_get_obj(r, "o", &o));
    CHECK_OK(ms_json_get_enum(o, "mode", greek, 3, &idx));
    CHECK(idx == 2);
    CHECK_OK(ms_json_get_arr(o, "list", 3, &a, &n));
    CHECK(n == 3);
    CHECK_OK(ms_json_arr_at(a, 1, &e));
    CHECK_OK(ms_json_as_str(e, 3, &s, &n));
    CHECK(strcmp(s, "two") == 0);
    ms_json_free(doc);
    ms_buf_free(&out);
    ms_json_builder_free(b);
}

static void test_builder_exact_text(void)
{
    ms_json_builder *b = NULL;
    ms_json_wval root, a;
    ms_buf out;
    ms_buf_init(&out, 256);
    CHECK_OK(ms_json_builder_new(MS_JSON_ARRAY, &b, &root));
    CHECK_OK(ms_json_add_i64(root, NULL, -3));
    CHECK_OK(ms_json_add_double(root, NULL, 2.5));
    CHECK_OK(ms_json_add_double(root, NULL, 4.0));
    CHECK_OK(ms_json_add_cstr(root, NULL, "a\"b"));
    CHECK_OK(ms_json_add_arr(root, NULL, &a));
    CHECK_OK(ms_json_add_null(a, NULL));
    CHECK_OK(ms_json_builder_print(b, &out));
    static const char want[] = "[-3,2.5,4,\"a\\\"b\",[null]]";
    CHECK(out.len == sizeof want - 1 && memcmp(out.p, want, out.len) == 0);
    ms_buf_free(&out);
    ms_json_builder_free(b);
}

/* ms_json_put_str writes what the builder prints for the same string, in place. */
static void test_put_str(void)
{
    static const char text[] = "plain \"q\" \\ /\b\f\n\r\t\x01\x1f caf\xc3\xa9 \xf0\x9f\x98\x80 end";
    ms_json_builder *b = NULL;
    ms_json_wval root;
    ms_buf want, out;
    size_t size, other;
    ms_buf_init(&want, 1024);
    ms_buf_init(&out, 1024);
    CHECK_OK(ms_json_builder_new(MS_JSON_ARRAY, &b, &root));
    CHECK_OK(ms_json_add_str(root, NULL, text, sizeof text - 1));
    CHECK_OK(ms_json_builder_print(b, &want)); /* ["..."] */
    CHECK_OK(ms_json_str_size(text, sizeof text - 1, &size));
    CHECK(size == want.len - 2);
    CHECK_ERR(ms_json_put_str(&out, text, sizeof text - 1, size), MS_ERR_OUT_SPACE); /* no room */
    CHECK_OK(ms_buf_append(&out, "x", 1));
    CHECK_OK(ms_buf_reserve(&out, size));
    CHECK_OK(ms_json_put_str(&out, text, sizeof text - 1, size));
    CHECK(out.len == 1 + size && memcmp(out.p + 1, want.p + 1, size) == 0);
    /* a size that is not this string's: nothing appended, and what was written is wiped */
    CHECK_OK(ms_json_str_size("ab", 2, &other));
    CHECK_OK(ms_buf_reserve(&out, size + 8));
    size_t len = out.len;
    CHECK_ERR(ms_json_put_str(&out, text, sizeof text - 1, other), MS_ERR_ARG);
    CHECK_ERR(ms_json_put_str(&out, "ab", 2, size), MS_ERR_ARG);
    CHECK(out.len == len);
    for (size_t i = 0; i < 3; i++) { /* what the second call wrote ("ab) */
        CHECK(out.p[len + i] == 0);
    }
    /* every ASCII byte at every place of a word-sized stretch: the 8-byte steps find it */
    for (unsigned c = 1; c < 0x80; c++) {
        for (size_t k = 0; k < 20; k++) {
            char t[20];
            memset(t, 'a', sizeof t);
            t[k] = (char)c;
            size_t extra = c >= 0x20 && c != '"' && c != '\\' ? 0 : c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t' ? 1 : 5;
            CHECK_OK(ms_json_str_size(t, sizeof t, &other));
            CHECK(other == sizeof t + 2 + extra);
        }
    }
    CHECK_OK(ms_json_str_size("", 0, &other));
    CHECK(other == 2);
    CHECK_ERR(ms_json_str_size("a\0b", 3, &other), MS_ERR_ARG);
    CHECK_ERR(ms_json_str_size("\xc3", 1, &other), MS_ERR_ARG);
    CHECK_ERR(ms_json_str_size(NULL, 1, &other), MS_ERR_ARG);
    ms_json_builder_free(b);
    ms_buf_free(&want);
    ms_buf_free(&out);
}

static void test_builder_errors(void)
{
    ms_json_builder *b = NULL;
    ms_json_wval root, arr, w;
    ms_buf before, after;
    ms_buf_init(&before, 1024);
    ms_buf_init(&after, 1024);
    CHECK_ERR(ms_json_builder_new(MS_JSON_STRING, &b, &root), MS_ERR_ARG);
    CHECK(b == NULL);
    CHECK_OK(ms_json_builder_new(MS_JSON_OBJECT, &b, &root));
    CHECK_OK(ms_json_add_i64(root, "k", 1));
    CHECK_OK(ms_json_add_arr(root, "arr", &arr));
    CHECK_OK(ms_json_builder_print(b, &before));
    CHECK_ERR(ms_json_add_i64(root, "k", 2), MS_ERR_ARG);
    CHECK_ERR(ms_json_add_obj(root, "k", &w), MS_ERR_ARG);
    CHECK(w.node_ == NULL);
    CHECK_ERR(ms_json_add_i64(root, NULL, 2), MS_ERR_ARG);
    CHECK_ERR(ms_json_add_i64(arr, "x", 2), MS_ERR_ARG);
    CHECK_ERR(ms_json_add_str(root, "nul", "a\0b", 3), MS_ERR_ARG);
    CHECK_ERR(ms_json_add_str(root, "bin", "\xff\xfe", 2), MS_ERR_ARG);
    CHECK_ERR(ms_json_add_str(root, "cut", "\xC3", 1), MS_ERR_ARG);
    CHECK_ERR(ms_json_add_str(root, "null", NULL, 1), MS_ERR_ARG);
    CHECK_ERR(ms_json_add_cstr(root, "null", NULL), MS_ERR_ARG);
    CHECK_ERR(ms_json_add_i64(root, "\xff", 1), MS_ERR_ARG);
    CHECK_ERR(ms_json_add_i64(root, "p53", 9007199254740992ll), MS_ERR_JSON_RANGE);
    CHECK_ERR(ms_json_add_i64(root, "n53", -9007199254740992ll), MS_ERR_JSON_RANGE);
    CHECK_ERR(ms_json_add_i64(root, "min", INT64_MIN), MS_ERR_JSON_RANGE);
    CHECK_ERR(ms_json_add_u64(root, "p53", 9007199254740992ull), MS_ERR_JSON_RANGE);
    CHECK_ERR(ms_json_add_u64(root, "max", UINT64_MAX), MS_ERR_JSON_RANGE);
    CHECK_ERR(ms_json_add_double(root, "nan", NAN), MS_ERR_JSON_RANGE);
    CHECK_ERR(ms_json_add_double(root, "inf", INFINITY), MS_ERR_JSON_RANGE);
    CHECK_ERR(ms_json_add_double(root, "ninf", -INFINITY), MS_ERR_JSON_RANGE);
    w.node_ = NULL;
    CHECK_ERR(ms_json_add_bool(w, "x", true), MS_ERR_ARG);
    /* Every failure above left the tree as it was. */
    CHECK_OK(ms_json_builder_print(b, &after));
    CHECK(before.len == after.len && memcmp(before.p, after.p, before.len) == 0);
    ms_buf_free(&before);
    ms_buf_free(&after);
    ms_json_builder_free(b);
    ms_json_builder_free(NULL);
}

static void test_builder_depth(void)
{
    ms_json_builder *b = NULL;
    ms_json_wval w, next;
    CHECK_OK(ms_json_builder_new(MS_JSON_ARRAY, &b, &w));
    for (unsigned d = 2; d <= MS_MAX_JSON_DEPTH; d++) {
        CHECK_OK(ms_json_add_arr(w, NULL, &next));
        w = next;
    }
    CHECK_ERR(ms_json_add_arr(w, NULL, &next), MS_ERR_JSON_DEPTH);
    CHECK_ERR(ms_json_add_obj(w, NULL, &next), MS_ERR_JSON_DEPTH);
    CHECK_OK(ms_json_add_i64(w, NULL, 1));
    ms_buf out;
    ms_buf_init(&out, 4096);
    CHECK_OK(ms_json_builder_print(b, &out));
    ms_json_doc *doc = NULL;
    CHECK_OK(ms_json_parse((const char *)out.p, out.len, &doc));
    ms_json_free(doc);
    ms_buf_free(&out);
    ms_json_builder_free(b);
}

static void test_builder_cap(void)
{
    ms_json_builder *b = build_sample();
    ms_buf out;
    ms_buf_init(&out, SIZE_MAX);
    CHECK_OK(ms_json_builder_print(b, &out));
    size_t len = out.len;
    ms_buf_free(&out);
    /* Exactly the text's length plus what is already there: fits. */
    ms_buf_init(&out, len + 3);
    CHECK_OK(ms_buf_append(&out, "pre", 3));
    CHECK_OK(ms_json_builder_print(b, &out));
    CHECK(out.len == len + 3);
    ms_buf_free(&out);
    /* One byte short: refused, and the buffer keeps what it had. */
    ms_buf_init(&out, len + 2);
    CHECK_OK(ms_buf_append(&out, "pre", 3));
    CHECK_ERR(ms_json_builder_print(b, &out), MS_ERR_CAP_EXCEEDED);
    CHECK(out.len == 3);
    CHECK_MEM(out.p, "pre", 3);
    ms_buf_free(&out);
    CHECK_ERR(ms_json_builder_print(NULL, &out), MS_ERR_ARG);
    ms_json_builder_free(b);
}

/* ms_json_add_value: a document copied into a builder prints back to the same text. */
static void test_add_value_copy(void)
{
    const char *text = "{\"a\":[1,-2,9007199254740991,1.5,true,false,null],\"b\":{\"c\":\"x\\u00e9\"},"
                       "\"d\":[]}";
    ms_json_doc *doc = NULL;
    ms_json_builder *b = NULL;
    ms_json_wval root;
    ms_buf out;
    ms_buf_init(&out, 4096);
    CHECK_OK(ms_json_parse(text, strlen(text), &doc));
    CHECK_OK(ms_json_builder_new(MS_JSON_OBJECT, &b, &root));
    CHECK_OK(ms_json_add_value(root, "copy", ms_json_root(doc)));
    ms_json_free(doc); /* the copy must not borrow from the document */
    CHECK_OK(ms_json_builder_print(b, &out));
    CHECK_OK(ms_buf_terminate(&out));
    const char *want = "{\"copy\":{\"a\":[1,-2,9007199254740991,1.5,true,false,null],"
                       "\"b\":{\"c\":\"x\xc3\xa9\"},\"d\":[]}}";
    CHECK(out.len == strlen(want) && memcmp(out.p, want, out.len) == 0);
    if (out.len != strlen(want) || memcmp(out.p, want, out.len) != 0) {
        fprintf(stderr, "  got %s\n", (const char *)out.p);
    }
    ms_json_val absent = {0};
    CHECK_ERR(ms_json_add_value(root, "none", absent), MS_ERR_ARG);
    ms_json_builder_free(b);
    ms_buf_free(&out);
}

/* A member's value as written: spans of every type, whitespace, nesting, strings with braces. */
static void raw_is(const char *text, const char *key, const char *want)
{
    size_t start = 99, n = 99;
    CHECK_OK(ms_json_raw_member(text, strlen(text), key, &start, &n));
    CHECK(n == strlen(want) && memcmp(text + start, want, n) == 0);
}

static void test_raw_member(void)
{
    const char *t = " {\"a\" : {\"x\":\"}\\\"{\",\"y\":[1,{\"z\":[]}]} ,\"b\":\"s\\\\\",\"c\":-1.5e3,"
                    "\"d\":true,\"e\":null,\"f\":[ ],\"g\":{}\t}\n";
    raw_is(t, "a", "{\"x\":\"}\\\"{\",\"y\":[1,{\"z\":[]}]}");
    raw_is(t, "b", "\"s\\\\\"");
    raw_is(t, "c", "-1.5e3");
    raw_is(t, "d", "true");
    raw_is(t, "e", "null");
    raw_is(t, "f", "[ ]");
    raw_is(t, "g", "{}");
    /* Only top-level members: "x" and "z" are inside "a". */
    size_t start = 7, n = 7;
    CHECK_ERR(ms_json_raw_member(t, strlen(t), "x", &start, &n), MS_ERR_JSON_MISSING);
    CHECK(start == 0 && n == 0);
    CHECK_ERR(ms_json_raw_member(t, strlen(t), "z", &start, &n), MS_ERR_JSON_MISSING);
    CHECK_ERR(ms_json_raw_member("{}", 2, "a", &start, &n), MS_ERR_JSON_MISSING);
    /* A key written with an escape is not matched on its raw bytes (fail closed). */
    const char *esc = "{\"\\u0061\":1}";
    CHECK_ERR(ms_json_raw_member(esc, strlen(esc), "a", &start, &n), MS_ERR_JSON_MISSING);
    CHECK_ERR(ms_json_raw_member("[1]", 3, "a", &start, &n), MS_ERR_JSON_TYPE);
    CHECK_ERR(ms_json_raw_member("{\"a\":1", 6, "a", &start, &n), MS_ERR_JSON_PARSE);
    CHECK_ERR(ms_json_raw_member("{\"a\":1,\"a\":2}", 13, "a", &start, &n), MS_ERR_JSON_PARSE);
    CHECK_ERR(ms_json_raw_member("{\"a\":1}", 7, NULL, &start, &n), MS_ERR_ARG);
    /* Every prefix of a valid text fails cleanly. */
    for (size_t i = 0; i < strlen(t) - 1; i++) {
        CHECK(ms_json_raw_member(t, i, "g", &start, &n) != MS_OK);
    }
}

/* Strings of 256 bytes and more are decoded beside cJSON (common/json.c, LONG_STRING):
   the same values, the same refusals, in every place a string value can be. */
static char *repeat(const char *unit, size_t times)
{
    size_t u = strlen(unit);
    char *s = malloc(u * times + 1);
    for (size_t i = 0; s && i < times; i++) {
        memcpy(s + i * u, unit, u);
    }
    if (s) {
        s[u * times] = '\0';
    }
    return s;
}

static void check_str_at(ms_json_val v, const char *want)
{
    const char *s;
    size_t n;
    CHECK_OK(ms_json_as_str(v, 1u << 20, &s, &n));
    CHECK(n == strlen(want) && strcmp(s, want) == 0);
}

static void test_long_strings(void)
{
    /* raw: escapes of every kind, a surrogate pair, raw UTF-8; dec: what they stand for */
    char *raw = repeat("ab\\n\\\"\\\\\\/\\b\\f\\r\\t\\u00e9\\ud83d\\ude00\xc3\xa9z", 40);
    char *dec = repeat("ab\n\"\\/\b\f\r\t\xc3\xa9\xf0\x9f\x98\x80\xc3\xa9z", 40);
    char *plain = repeat("plain words ", 30);
    char *longkey = repeat("k", 300);
    size_t cap = strlen(raw) * 4 + strlen(plain) * 2 + strlen(longkey) + 256;
    char *text = malloc(cap);
    snprintf(text, cap,
             "{\"a\":\"%s\",\"s\":\"short\",\"arr\":[\"x\",\"%s\",{\"in\":\"%s\"},\"y\"],"
             "\"%s\":\"v\",\"last\" : \"%s\"}",
             raw, plain, raw, longkey, plain);
    ms_json_doc *doc = parse_ok(text);
    ms_json_val root = ms_json_root(doc), arr, x;
    size_t n;
    CHECK_OK(ms_json_get(root, "a", &x));
    check_str_at(x, dec);
    CHECK_OK(ms_json_get(root, "s", &x));
    check_str_at(x, "short");
    CHECK_OK(ms_json_get_arr(root, "arr", 10, &arr, &n));
    CHECK(n == 4);
    CHECK_OK(ms_json_arr_at(arr, 0, &x));
    check_str_at(x, "x");
    CHECK_OK(ms_json_arr_at(arr, 1, &x));
    check_str_at(x, plain);
    CHECK_OK(ms_json_arr_at(arr, 2, &x));
    CHECK_OK(ms_json_get(x, "in", &x));
    check_str_at(x, dec);
    CHECK_OK(ms_json_arr_at(arr, 3, &x));
    check_str_at(x, "y");
    CHECK_OK(ms_json_get(root, longkey, &x)); /* a long key stays cJSON's */
    check_str_at(x, "v");
    CHECK_OK(ms_json_get(root, "last", &x));
    check_str_at(x, plain);
    ms_json_free(doc);

    /* a long string as the whole text */
    snprintf(text, cap, "\"%s\"", raw);
    doc = parse_ok(text);
    check_str_at(ms_json_root(doc), dec);
    ms_json_free(doc);

    /* refusals: as for short strings (cJSON's), and a grammar error after a long string */
    static const char *const bad[] = {"\\ud83d", "\\ud83dx", "\\ud83d\\u0041", "\\ude00",
                                      "\\ud83d\\ud83d", "\\u0000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, cap, "{\"a\":\"%s%s\"}", plain, bad[i]);
        CHECK_ERR(parse_err(text, strlen(text)), MS_ERR_JSON_PARSE);
        snprintf(text, cap, "{\"a\":\"%s\"}", bad[i]);
        CHECK_ERR(parse_err(text, strlen(text)), MS_ERR_JSON_PARSE);
    }
    snprintf(text, cap, "{\"a\":\"%s\" \"b\":1}", plain);
    CHECK_ERR(parse_err(text, strlen(text)), MS_ERR_JSON_PARSE);
    snprintf(text, cap, "[\"%s\":1]", plain);
    CHECK_ERR(parse_err(text, strlen(text)), MS_ERR_JSON_PARSE);
    snprintf(text, cap, "{\"a\":\"%s\",\"a\":\"%s\"}", plain, plain);
    CHECK_ERR(parse_err(text, strlen(text)), MS_ERR_JSON_PARSE);
    snprintf(text, cap, "{\"a\":\"%s\x01\"}", plain);
    CHECK_ERR(parse_err(text, strlen(text)), MS_ERR_JSON_PARSE);
    free(text);
    free(raw);
    free(dec);
    free(plain);
    free(longkey);
}

/* text kept (ms_json_parse_keep) against decoded (ms_json_parse): the same text, the same errors */
static void check_keep_agrees(const char *text, ms_err want)
{
    ms_json_doc *keep = (ms_json_doc *)1;
    CHECK_ERR(parse_err(text, strlen(text)), want);
    CHECK_ERR(ms_json_parse_keep(text, strlen(text), &keep), want);
    if (want != MS_OK) {
        CHECK(keep == NULL);
    }
    ms_json_free(want == MS_OK ? keep : NULL);
}

/* The escaped body of a kept string decodes to the bytes the decoding parse gives. */
static void check_kept(ms_json_val v, const char *want, bool kept)
{
    ms_json_text t;
    ms_buf dec;
    const char *s;
    size_t n;
    CHECK(ms_json_type_of(v) == MS_JSON_STRING);
    CHECK_OK(ms_json_as_text(v, &t));
    CHECK(t.escaped == kept);
    if (!kept) {
        CHECK(t.len == strlen(want) && memcmp(t.p, want, t.len) == 0);
        return;
    }
    CHECK_ERR(ms_json_as_str(v, SIZE_MAX, &s, &n), MS_ERR_JSON_TYPE); /* never the escapes */
    CHECK(s == NULL && n == 0);
    ms_buf_init(&dec, 1u << 20);
    CHECK_OK(ms_json_unescape(t.p, t.len, &dec));
    CHECK(dec.len == strlen(want) && memcmp(dec.p, want, dec.len) == 0);
    ms_buf_free(&dec);
}

/* A string value's body where the text writes it: keys skipped, escapes kept, nesting,
   kept strings; a view of another type, another document or another text refused. */
static void span_is(const char *text, ms_json_val v, const ms_json_doc *doc, const char *want)
{
    size_t start = 99, n = 99;
    CHECK_OK(ms_json_str_span(doc, v, text, strlen(text), &start, &n));
    CHECK(n == strlen(want) && memcmp(text + start, want, n) == 0);
}

static void test_str_span(void)
{
    const char *t = "{\"k\":\"k\",\"a\":[\"x\",{\"k\" : \"\\\"k\\u00e9\"}],\"n\":1,\"e\":\"\"}";
    ms_json_doc *doc = NULL, *other = NULL;
    ms_json_val root, a, o, v, x;
    size_t start = 7, n = 7, len;
    CHECK_OK(ms_json_parse(t, strlen(t), &doc));
    root = ms_json_root(doc);
    CHECK_OK(ms_json_get(root, "k", &v));
    span_is(t, v, doc, "k");
    CHECK_OK(ms_json_get_arr(root, "a", 8, &a, &len));
    CHECK_OK(ms_json_arr_at(a, 0, &x));
    span_is(t, x, doc, "x");
    CHECK_OK(ms_json_arr_at(a, 1, &o));
    CHECK_OK(ms_json_get(o, "k", &v));
    span_is(t, v, doc, "\\\"k\\u00e9"); /* as written: the escapes stay */
    CHECK_OK(ms_json_get(root, "e", &v));
    span_is(t, v, doc, "");
    /* refusals leave 0, 0 */
    CHECK_OK(ms_json_get(root, "n", &v));
    CHECK_ERR(ms_json_str_span(doc, v, t, strlen(t), &start, &n), MS_ERR_JSON_TYPE);
    CHECK(start == 0 && n == 0);
    CHECK_ERR(ms_json_str_span(doc, a, t, strlen(t), &start, &n), MS_ERR_JSON_TYPE);
    CHECK_ERR(ms_json_str_span(doc, (ms_json_val){0}, t, strlen(t), &start, &n),
              MS_ERR_JSON_MISSING);
    CHECK_ERR(ms_json_str_span(NULL, x, t, strlen(t), &start, &n), MS_ERR_ARG);
    CHECK_OK(ms_json_parse("[\"x\"]", 5, &other));
    CHECK_ERR(ms_json_str_span(other, x, t, strlen(t), &start, &n), MS_ERR_ARG); /* not other's */
    /* a text with fewer string values than the document: not its text */
    CHECK_ERR(ms_json_str_span(doc, x, "{\"k\":1}", 7, &start, &n), MS_ERR_ARG);
    CHECK(start == 0 && n == 0);
    ms_json_free(other);
    ms_json_free(doc);
    /* kept strings (ms_json_parse_keep) are counted in their place */
    char *big = repeat("ab\\n", 100);
    size_t bl = strlen(big) + 64;
    char *kt = malloc(bl);
    CHECK(big != NULL && kt != NULL);
    if (big == NULL || kt == NULL) {
        free(big);
        free(kt);
        return;
    }
    snprintf(kt, bl, "{\"long\":\"%s\",\"s\":\"tail\"}", big);
    CHECK_OK(ms_json_parse_keep(kt, strlen(kt), &doc));
    CHECK_OK(ms_json_get(ms_json_root(doc), "long", &v));
    span_is(kt, v, doc, big);
    CHECK_OK(ms_json_get(ms_json_root(doc), "s", &v));
    span_is(kt, v, doc, "tail");
    ms_json_free(doc);
    free(kt);
    free(big);
}

static void test_parse_keep(void)
{
    char *raw = repeat("ab\\n\\\"\\\\\\/\\b\\f\\r\\t\\u00e9\\ud83d\\ude00\xc3\xa9z", 40);
    char *dec = repeat("ab\n\"\\/\b\f\r\t\xc3\xa9\xf0\x9f\x98\x80\xc3\xa9z", 40);
    char *plain = repeat("plain words ", 30);
    size_t cap = strlen(raw) * 2 + strlen(plain) * 2 + 256;
    char *text = malloc(cap);
    snprintf(text, cap, "{\"a\":\"%s\",\"s\":\"sh\\u00e9rt\",\"arr\":[\"%s\",{\"in\":\"%s\"}]}",
             raw, plain, raw);
    ms_json_doc *doc = NULL;
    CHECK_OK(ms_json_parse_keep(text, strlen(text), &doc));
    ms_json_val root = ms_json_root(doc), arr, x;
    ms_json_text t;
    size_t n;
    CHECK_OK(ms_json_get(root, "a", &x));
    check_kept(x, dec, true);
    CHECK_OK(ms_json_as_text(x, &t)); /* the bytes between its quotes, as written */
    CHECK(t.p == strstr(text, raw) && t.len == strlen(raw));
    CHECK_OK(ms_json_get(root, "s", &x)); /* short: decoded as ever */
    check_kept(x, "sh\xc3\xa9rt", false);
    CHECK_OK(ms_json_get_arr(root, "arr", 10, &arr, &n));
    CHECK_OK(ms_json_arr_at(arr, 0, &x));
    check_kept(x, plain, true);
    CHECK_OK(ms_json_arr_at(arr, 1, &x));
    CHECK_OK(ms_json_get(x, "in", &x));
    check_kept(x, dec, true);
    /* a copy into a builder would print the escapes as text: refused */
    ms_json_builder *b = NULL;
    ms_json_wval w;
    CHECK_OK(ms_json_builder_new(MS_JSON_OBJECT, &b, &w));
    CHECK_ERR(ms_json_add_value(w, "c", root), MS_ERR_JSON_TYPE);
    ms_json_builder_free(b);
    CHECK_ERR(ms_json_as_text((ms_json_val){0}, &t), MS_ERR_JSON_MISSING);
    CHECK_OK(ms_json_get(root, "arr", &x));
    CHECK_ERR(ms_json_as_text(x, &t), MS_ERR_JSON_TYPE);
    ms_json_free(doc); /* wipes nothing of text: still readable */
    CHECK(strstr(text, raw) != NULL);

    /* refusals: the same errors either way (lone surrogates, \u0000, controls, bad UTF-8) */
    static const char *const bad[] = {"\\ud83d", "\\ud83dx", "\\ud83d\\u0041", "\\ude00",
                                      "\\ud83d\\ud83d", "\\u0000", "\\ud83d\\u0000",
                                      "\\x", "\\u12g4", "\x01", "\xc3", "\xed\xa0\x80",
                                      "\xff", "\\ud83d\\", "\\"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, cap, "{\"a\":\"%s%s\"}", plain, bad[i]);
        check_keep_agrees(text, MS_ERR_JSON_PARSE);
        snprintf(text, cap, "[\"%s%s\"]", bad[i], plain);
        check_keep_agrees(text, MS_ERR_JSON_PARSE);
    }
    snprintf(text, cap, "{\"a\":\"%s\\ud83d\\ude00\"}", plain); /* a pair at the very end */
    check_keep_agrees(text, MS_OK);
    free(text);
    free(raw);
    free(dec);
    free(plain);
}

static void test_unescape(void)
{
    ms_buf out;
    ms_buf_init(&out, 8);
    CHECK_OK(ms_json_unescape("a\\u00e9\\/", 9, &out));
    CHECK(out.len == 4 && memcmp(out.p, "a\xc3\xa9/", 4) == 0);
    CHECK_OK(ms_json_unescape(NULL, 0, &out));
    CHECK(out.len == 4);
    /* untrusted bodies: refused, out as it was */
    static const char *const bad[] = {"\"", "a\"b", "\\", "\\ud83d", "\\ude00", "\\u0000",
                                      "\x1f", "\xc3", "\\q", "\\u00e"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_ERR(ms_json_unescape(bad[i], strlen(bad[i]), &out), MS_ERR_JSON_PARSE);
        CHECK(out.len == 4 && memcmp(out.p, "a\xc3\xa9/", 4) == 0);
    }
    CHECK_ERR(ms_json_unescape(NULL, 1, &out), MS_ERR_ARG);
    /* the cap judges the text: 12 escaped bytes that are 4 fit the 4 left */
    CHECK_OK(ms_json_unescape("\\u0041\\u0042BC", 14, &out));
    CHECK(out.len == 8 && memcmp(out.p + 4, "ABBC", 4) == 0);
    CHECK_ERR(ms_json_unescape("\\u0041", 6, &out), MS_ERR_CAP_EXCEEDED);
    CHECK(out.len == 8);
    ms_buf_free(&out);
}

/* The length of the plain run at p (no control byte, '"', '\\', and with ascii no byte >= 0x80),
   a byte at a time: what the wide steps of ms_json_plain_run_ must agree with. */
static size_t plain_ref(const uint8_t *p, size_t len, bool ascii)
{
    size_t i = 0;
    while (i < len && p[i] >= 0x20 && p[i] != '"' && p[i] != '\\' && (!ascii || p[i] < 0x80)) {
        i++;
    }
    return i;
}

/* Every stop byte at every place of runs up to 48 bytes (16- and 8-byte steps and the tail),
   over backgrounds at the edges of what is plain. */
static void test_plain_run(void)
{
    static const uint8_t stops[] = {0x00, 0x01, 0x1f, '"', '\\', 0x80, 0xc3, 0xff};
    static const uint8_t backs[] = {0x20, 0x21, 'a', 0x5b, 0x5d, 0x7e, 0x7f, 0x80, 0xbf};
    uint8_t buf[49];
    for (size_t b = 0; b < sizeof backs; b++) {
        for (size_t len = 0; len <= 48; len++) {
            memset(buf, backs[b], sizeof buf);
            for (int ascii = 0; ascii <= 1; ascii++) {
                CHECK(ms_json_plain_run_(buf, len, ascii) == plain_ref(buf, len, ascii));
            }
            for (size_t at = 0; at < len; at++) {
                for (size_t s = 0; s < sizeof stops; s++) {
                    memset(buf, backs[b], sizeof buf);
                    buf[at] = stops[s];
                    for (int ascii = 0; ascii <= 1; ascii++) {
                        CHECK(ms_json_plain_run_(buf, len, ascii) == plain_ref(buf, len, ascii));
                    }
                }
            }
        }
    }
    /* A stop past len is not read as one. */
    memset(buf, 'a', sizeof buf);
    buf[32] = '"';
    CHECK(ms_json_plain_run_(buf, 32, true) == 32 && ms_json_plain_run_(buf, 33, true) == 32);
}

int main(void)
{
    RUN(test_get_str);
    RUN(test_get_bool);
    RUN(test_get_integers);
    RUN(test_get_double);
    RUN(test_get_obj_arr);
    RUN(test_get_enum);
    RUN(test_opt_getters);
    RUN(test_opt_containers);
    RUN(test_integer_edges);
    RUN(test_depth_cap);
    RUN(test_duplicate_keys);
    RUN(test_trailing_and_whole_text);
    RUN(test_lax_cjson_inputs_rejected);
    RUN(test_nul_in_strings);
    RUN(test_text_cap);
    RUN(test_iteration_and_types);
    RUN(test_as_on_elements);
    RUN(test_builder_round_trip);
    RUN(test_builder_exact_text);
    RUN(test_put_str);
    RUN(test_builder_errors);
    RUN(test_builder_depth);
    RUN(test_builder_cap);
    RUN(test_add_value_copy);
    RUN(test_raw_member);
    RUN(test_str_span);
    RUN(test_long_strings);
    RUN(test_parse_keep);
    RUN(test_unescape);
    RUN(test_plain_run);
    return TEST_SUMMARY();
}
