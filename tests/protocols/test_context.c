/* Tests of protocols/context: directory walks, kinds, UTF-8, caps, and PDF through poppler. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protocols/context.h"
#include "protocols/context_pdf.h"
#include "tests/fixture/proc.h"
#include "tests/test.h"

static char g_dir[PATH_MAX];

static void put(const char *rel, const void *data, size_t n)
{
    char p[PATH_MAX];
    e2e_path(p, "%s/%s", g_dir, rel);
    FILE *f = fopen(p, "wb");
    CHECK(f != NULL);
    if (f) {
        CHECK(fwrite(data, 1, n, f) == n);
        fclose(f);
    }
}

static void put_s(const char *rel, const char *text)
{
    put(rel, text, strlen(text));
}

static void mk(const char *rel)
{
    char p[PATH_MAX];
    e2e_path(p, "%s/%s", g_dir, rel);
    CHECK(mkdir(p, 0700) == 0);
}

static void path_of(char out[static PATH_MAX], const char *rel)
{
    e2e_path(out, "%s/%s", g_dir, rel);
}

/* --- a hand-written PDF: objects, then an xref table with the exact byte offsets --------- */

static void pdf_obj(ms_buf *b, size_t *offs, int num, const char *body)
{
    char head[32];
    offs[num] = b->len;
    snprintf(head, sizeof head, "%d 0 obj\n", num);
    CHECK_OK(ms_buf_append_str(b, head));
    CHECK_OK(ms_buf_append_str(b, body));
    CHECK_OK(ms_buf_append_str(b, "\nendobj\n"));
}

/* Two pages (Helvetica, one line each): catalog 1, pages 2, page 3 and 4, font 5, streams 6-7. */
static void pdf_two_pages(ms_buf *b, const char *p1, const char *p2)
{
    size_t offs[8] = {0};
    char body[512], line[64];
    const char *texts[2] = {p1, p2};
    CHECK_OK(ms_buf_append_str(b, "%PDF-1.4\n"));
    pdf_obj(b, offs, 1, "<< /Type /Catalog /Pages 2 0 R >>");
    pdf_obj(b, offs, 2, "<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>");
    for (int i = 0; i < 2; i++) {
        snprintf(body, sizeof body,
                 "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                 "/Resources << /Font << /F1 5 0 R >> >> /Contents %d 0 R >>",
                 6 + i);
        pdf_obj(b, offs, 3 + i, body);
    }
    pdf_obj(b, offs, 5, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
    for (int i = 0; i < 2; i++) {
        char content[256];
        int n = snprintf(content, sizeof content, "BT /F1 12 Tf 72 720 Td (%s) Tj ET", texts[i]);
        snprintf(body, sizeof body, "<< /Length %d >>\nstream\n%s\nendstream", n, content);
        pdf_obj(b, offs, 6 + i, body);
    }
    size_t xref = b->len;
    CHECK_OK(ms_buf_append_str(b, "xref\n0 8\n0000000000 65535 f \n"));
    for (int i = 1; i <= 7; i++) {
        snprintf(line, sizeof line, "%010zu 00000 n \n", offs[i]);
        CHECK(strlen(line) == 20); /* each xref entry is exactly 20 bytes */
        CHECK_OK(ms_buf_append_str(b, line));
    }
    snprintf(line, sizeof line, "trailer\n<< /Size 8 /Root 1 0 R >>\nstartxref\n%zu\n", xref);
    CHECK_OK(ms_buf_append_str(b, line));
    CHECK_OK(ms_buf_append_str(b, "%%EOF\n"));
}

static const ms_doc *doc_named(const ms_context *c, const char *rel)
{
    char p[PATH_MAX];
    path_of(p, rel);
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->docs[i].name, p) == 0) {
            return &c->docs[i];
        }
    }
    return NULL;
}

static const char *skip_reason(const ms_context *c, const char *rel)
{
    char p[PATH_MAX];
    path_of(p, rel);
    for (size_t i = 0; i < c->n_skipped; i++) {
        if (strcmp(c->skipped[i].name, p) == 0) {
            return c->skipped[i].reason;
        }
    }
    return NULL;
}

/* --- tests ---------------------------------------------------------------------------------- */

/* A tree: kinds, order, hidden entries, symbolic links, a FIFO, non-UTF-8 and binary files. */
static void test_tree(void)
{
    char root[PATH_MAX], why[512], sum[256], target[PATH_MAX], link[PATH_MAX];
    ms_context c;
    ms_buf joined;
    mk("tree");
    mk("tree/src");
    mk("tree/src/deep");
    mk("tree/.git");
    put_s("tree/a.txt", "alpha line about the VPN gateway\n");
    put_s("tree/b.md", "# Heading\nbeta markdown\n");
    put_s("tree/README", "no extension, still UTF-8 text: caf\xc3\xa9\n");
    put_s("tree/src/main.c", "int main(void) { return 0; }\n");
    put_s("tree/src/deep/notes.LOG", "gamma: deep note");
    put_s("tree/latin1.txt", "caf\xe9 au lait\n");
    put("tree/blob.bin", "MZ\0\0\x90\0binary", 12);
    put_s("tree/.hidden.txt", "hidden secret\n");
    put_s("tree/.git/config", "[core]\n");
    put_s("tree/bom.txt", "\xef\xbb\xbfwith a byte order mark\n");
    path_of(target, "tree/a.txt");
    path_of(link, "tree/link.txt");
    CHECK(symlink(target, link) == 0);
    path_of(target, "tree/src");
    path_of(link, "tree/linkdir");
    CHECK(symlink(target, link) == 0);
    path_of(link, "tree/pipe");
    CHECK(mkfifo(link, 0600) == 0);

    ms_context_init(&c);
    path_of(root, "tree/");
    CHECK_OK(ms_context_add(&c, root, why, sizeof why));
    CHECK(why[0] == '\0');
    /* Byte order of names, recursively: README < a.txt < b.md < bom.txt < src/deep < src/main.c */
    CHECK(c.n == 6);
    const char *order[] = {"tree/README", "tree/a.txt", "tree/b.md", "tree/bom.txt",
                           "tree/src/deep/notes.LOG", "tree/src/main.c"};
    for (size_t i = 0; i < 6 && i < c.n; i++) {
        char p[PATH_MAX];
        path_of(p, order[i]);
        CHECK(strcmp(c.docs[i].name, p) == 0);
    }
    const ms_doc *d = doc_named(&c, "tree/b.md");
    CHECK(d && d->kind == MS_DOC_MARKDOWN && d->pages == 0);
    d = doc_named(&c, "tree/src/main.c");
    CHECK(d && d->kind == MS_DOC_CODE);
    d = doc_named(&c, "tree/src/deep/notes.LOG");
    CHECK(d && d->kind == MS_DOC_TEXT && d->len == strlen("gamma: deep note"));
    d = doc_named(&c, "tree/README");
    CHECK(d && d->kind == MS_DOC_TEXT);
    d = doc_named(&c, "tree/bom.txt");
    CHECK(d && d->len == strlen("with a byte order mark\n") &&
          memcmp(d->text, "with a byte order mark\n", d->len) == 0);
    CHECK(d && d->text[d->len] == '\0');

    /* Skipped with a reason; hidden entries are not even listed. */
    CHECK(c.n_skipped == 5);
    const char *r = skip_reason(&c, "tree/latin1.txt");
    CHECK(r && strcmp(r, "not UTF-8 text") == 0);
    r = skip_reason(&c, "tree/blob.bin");
    CHECK(r && strcmp(r, "binary (contains NUL bytes)") == 0);
    r = skip_reason(&c, "tree/link.txt");
    CHECK(r && strstr(r, "symbolic link"));
    r = skip_reason(&c, "tree/linkdir");
    CHECK(r && strstr(r, "symbolic link"));
    r = skip_reason(&c, "tree/pipe");
    CHECK(r && strcmp(r, "not a regular file") == 0);
    CHECK(!skip_reason(&c, "tree/.hidden.txt") && !doc_named(&c, "tree/.hidden.txt"));
    CHECK(!doc_named(&c, "tree/.git/config"));

    ms_buf_init(&joined, 1u << 20);
    CHECK_OK(ms_context_join(&c, &joined));
    CHECK_OK(ms_buf_terminate(&joined));
    char head[PATH_MAX + 128];
    snprintf(head, sizeof head, "=== FILE %s/tree/b.md (markdown) ===\n# Heading\nbeta markdown\n",
             g_dir);
    CHECK(strstr((char *)joined.p, head) != NULL);
    snprintf(head, sizeof head,
             "=== FILE %s/tree/src/deep/notes.LOG (text) ===\ngamma: deep note\n\n=== FILE",
             g_dir);
    CHECK(strstr((char *)joined.p, head) != NULL); /* newline added, blank line between */
    CHECK(strstr((char *)joined.p, "hidden secret") == NULL);
    CHECK(strstr((char *)joined.p, "au lait") == NULL);

    ms_context_summary(&c, sum, sizeof sum);
    CHECK(strstr(sum, "6 documents: 4 text, 1 markdown, 1 code; ") == sum);
    CHECK(strstr(sum, " characters") != NULL);
    CHECK(strstr(sum, "tree") == NULL && strstr(sum, ".txt") == NULL); /* no names */
    ms_buf_free(&joined);
    ms_context_free(&c);
    CHECK(c.n == 0 && c.docs == NULL && c.max_bytes == MS_MAX_CONTEXT_BYTES);
}

/* An empty folder, and one that holds only a hidden entry: no documents, no error (the walk's
   name list is then empty: nothing to sort). */
static void test_empty_folder(void)
{
    char root[PATH_MAX], why[512];
    ms_context c;
    mk("none");
    mk("hid");
    put_s("hid/.only", "hidden\n");
    const char *dirs[] = {"none", "hid"};
    for (size_t i = 0; i < 2; i++) {
        ms_context_init(&c);
        path_of(root, dirs[i]);
        CHECK_OK(ms_context_add(&c, root, why, sizeof why));
        CHECK(c.n == 0 && c.n_skipped == 0);
        ms_context_free(&c);
    }
}

/* Files named by the user: errors name the file, never quote it. */
static void test_named_files(void)
{
    char p[PATH_MAX], why[512], target[PATH_MAX];
    ms_context c;
    ms_context_init(&c);
    put_s("latin1-named.txt", "secret caf\xe9\n");
    path_of(p, "latin1-named.txt");
    CHECK_ERR(ms_context_add(&c, p, why, sizeof why), MS_ERR_FILE_FORMAT);
    CHECK(strstr(why, p) == why && strstr(why, "not UTF-8 text") != NULL);
    CHECK(strstr(why, "secret") == NULL);
    CHECK(c.n == 0);

    put("zeros.dat", "a\0b", 3);
    path_of(p, "zeros.dat");
    CHECK_ERR(ms_context_add(&c, p, why, sizeof why), MS_ERR_FILE_FORMAT);
    CHECK(strstr(why, "binary") != NULL);

    path_of(p, "does-not-exist.txt");
    CHECK_ERR(ms_context_add(&c, p, why, sizeof why), MS_ERR_FILE_OPEN);
    CHECK(strstr(why, p) == why && strstr(why, "No such file") != NULL);

    path_of(p, "named-pipe");
    CHECK(mkfifo(p, 0600) == 0);
    CHECK_ERR(ms_context_add(&c, p, why, sizeof why), MS_ERR_FILE_OPEN); /* and no hang */
    CHECK(strstr(why, "not a regular file") != NULL);

    /* A symbolic link the user names is followed; an unknown extension holding text is text. */
    put_s("named.cfgx", "setting = 1\n");
    path_of(target, "named.cfgx");
    path_of(p, "named-link");
    CHECK(symlink(target, p) == 0);
    CHECK_OK(ms_context_add(&c, p, why, sizeof why));
    CHECK(c.n == 1 && c.docs[0].kind == MS_DOC_TEXT && strcmp(c.docs[0].name, p) == 0);
    CHECK(c.total == strlen("setting = 1\n"));

    put_s("empty.md", "");
    path_of(p, "empty.md");
    CHECK_OK(ms_context_add(&c, p, why, sizeof why));
    CHECK(c.n == 2 && c.docs[1].len == 0 && c.docs[1].text && c.docs[1].text[0] == '\0');

    CHECK_ERR(ms_context_add(&c, "", why, sizeof why), MS_ERR_ARG);
    CHECK_ERR(ms_context_add(&c, NULL, NULL, 0), MS_ERR_ARG);
    ms_context_free(&c);
}

/* Caps: too many files, too many bytes, too deep; exactly at a cap is fine. */
static void test_caps(void)
{
    char p[PATH_MAX], why[512];
    ms_context c;
    mk("caps");
    put_s("caps/1.txt", "0123456789");
    put_s("caps/2.txt", "0123456789");
    put_s("caps/3.txt", "0123456789");
    path_of(p, "caps");

    ms_context_init(&c);
    c.max_files = 2;
    CHECK_ERR(ms_context_add(&c, p, why, sizeof why), MS_ERR_CAP_EXCEEDED);
    CHECK(strstr(why, "caps/3.txt: more than 2 documents") != NULL);
    ms_context_free(&c);

    ms_context_init(&c);
    c.max_files = 3;
    c.max_bytes = 30; /* exactly the three files */
    CHECK_OK(ms_context_add(&c, p, why, sizeof why));
    CHECK(c.n == 3 && c.total == 30);
    put_s("empty.txt", "");
    char e[PATH_MAX];
    path_of(e, "empty.txt");
    c.max_files = 4;
    CHECK_OK(ms_context_add(&c, e, why, sizeof why)); /* nothing more to hold: still fits */
    ms_context_free(&c);

    ms_context_init(&c);
    c.max_bytes = 25;
    CHECK_ERR(ms_context_add(&c, p, why, sizeof why), MS_ERR_CAP_EXCEEDED);
    CHECK(strstr(why, "caps/3.txt: the documents together exceed 25 bytes") != NULL);
    CHECK(c.total <= 25);
    ms_context_free(&c);

    /* A single file over the cap, named directly. */
    ms_context_init(&c);
    c.max_bytes = 9;
    path_of(p, "caps/1.txt");
    CHECK_ERR(ms_context_add(&c, p, why, sizeof why), MS_ERR_CAP_EXCEEDED);
    CHECK(c.n == 0 && c.total == 0);
    ms_context_free(&c);

    /* Directories nested deeper than MS_MAX_CONTEXT_DEPTH. */
    char rel[PATH_MAX] = "deep";
    mk(rel);
    for (unsigned i = 0; i < MS_MAX_CONTEXT_DEPTH + 1; i++) {
        size_t n = strlen(rel);
        snprintf(rel + n, sizeof rel - n, "/d");
        mk(rel);
    }
    path_of(p, "deep");
    ms_context_init(&c);
    CHECK_ERR(ms_context_add(&c, p, why, sizeof why), MS_ERR_CAP_EXCEEDED);
    CHECK(strstr(why, "nested deeper than") != NULL);
    ms_context_free(&c);
}

/* A two-page PDF written here, read page by page; a corrupt one refused, naming the file. */
static void test_pdf(void)
{
    char p[PATH_MAX], why[512], sum[256];
    ms_buf pdf;
    ms_context c;
    ms_buf_init(&pdf, 1u << 20);
    pdf_two_pages(&pdf, "Page one: the intruder used build-02.",
                  "Page two: containment finished at 14:05.");
    mk("pdf");
    put("pdf/report.pdf", pdf.p, pdf.len);
    put_s("pdf/z-notes.md", "after the PDF\n");

    ms_context_init(&c);
    path_of(p, "pdf/report.pdf");
    CHECK_OK(ms_context_add(&c, p, why, sizeof why));
    CHECK(c.n == 1);
    if (c.n == 1) {
        const ms_doc *d = &c.docs[0];
        CHECK(d->kind == MS_DOC_PDF && d->pages == 2);
        const char *ff = memchr(d->text, '\f', d->len);
        CHECK(ff != NULL && memchr(ff + 1, '\f', d->len - (size_t)(ff + 1 - d->text)) == NULL);
        CHECK(ff && strstr(d->text, "Page one: the intruder used build-02.") == d->text);
        CHECK(ff && strstr(ff + 1, "Page two: containment finished at 14:05.") == ff + 1);
        CHECK(strlen(d->text) == d->len);
    }
    ms_context_summary(&c, sum, sizeof sum);
    CHECK(strstr(sum, "1 document: 1 PDF (2 pages); ") == sum);
    ms_context_free(&c);

    /* In a directory, with the pages in the join header. */
    ms_context_init(&c);
    path_of(p, "pdf");
    CHECK_OK(ms_context_add(&c, p, why, sizeof why));
    CHECK(c.n == 2 && c.docs[0].kind == MS_DOC_PDF && c.docs[1].kind == MS_DOC_MARKDOWN);
    ms_buf j;
    ms_buf_init(&j, 1u << 20);
    CHECK_OK(ms_context_join(&c, &j));
    CHECK_OK(ms_buf_terminate(&j));
    CHECK(strstr((char *)j.p, "report.pdf (PDF, 2 pages) ===\nPage one") != NULL);
    ms_buf_free(&j);
    /* The PDF's text counts against the context cap. */
    ms_context_free(&c);
    ms_context_init(&c);
    c.max_bytes = 50;
    path_of(p, "pdf/report.pdf");
    CHECK_ERR(ms_context_add(&c, p, why, sizeof why), MS_ERR_CAP_EXCEEDED);
    CHECK(strstr(why, "exceed 50 bytes") != NULL);
    ms_context_free(&c);

    /* Cut in the middle: poppler cannot rebuild it. */
    put("pdf-bad.pdf", pdf.p, 300);
    ms_context_init(&c);
    path_of(p, "pdf-bad.pdf");
    CHECK_ERR(ms_context_add(&c, p, why, sizeof why), MS_ERR_FILE_FORMAT);
    CHECK(strstr(why, p) == why && strstr(why, "not a readable PDF") != NULL);
    CHECK(strstr(why, "intruder") == NULL);
    CHECK(c.n == 0);
    ms_context_free(&c);

    /* Not a PDF at all, named .pdf, inside a directory: an error, not a skip. */
    mk("pdf2");
    put_s("pdf2/fake.pdf", "this is plain text pretending\n");
    ms_context_init(&c);
    path_of(p, "pdf2");
    CHECK_ERR(ms_context_add(&c, p, why, sizeof why), MS_ERR_FILE_FORMAT);
    CHECK(strstr(why, "fake.pdf: not a readable PDF") != NULL);
    ms_context_free(&c);
    ms_buf_free(&pdf);
}

/* The joined text made in place is ms_context_join's, byte for byte; each text a span of it. */
static void check_in_place(ms_context *c)
{
    ms_buf want;
    const char *text = NULL;
    size_t len = 0;
    char name0[PATH_MAX] = "";
    ms_buf_init(&want, 8u << 20);
    CHECK_OK(ms_context_join(c, &want));
    size_t lens[64];
    for (size_t i = 0; i < c->n && i < 64; i++) {
        lens[i] = c->docs[i].len;
    }
    if (c->n > 0) {
        snprintf(name0, sizeof name0, "%s", c->docs[0].name);
    }
    CHECK_OK(ms_context_join_in_place(c, &text, &len));
    CHECK(len == want.len && text != NULL && (len == 0 || memcmp(text, want.p, len) == 0));
    CHECK(text != NULL && text[len] == '\0');
    for (size_t i = 0; i < c->n && i < 64; i++) {
        const ms_doc *d = &c->docs[i];
        CHECK(d->len == lens[i] && d->text >= text && d->text + d->len <= text + len);
    }
    if (c->n > 0) {
        /* the first document's text right after its header line */
        CHECK(strncmp(text, "=== FILE ", 9) == 0 && strstr(text, name0) == text + 9);
        CHECK(c->docs[0].text == strchr(text, '\n') + 1);
    }
    /* again: the same text; the copying join still gives it too */
    const char *again = NULL;
    size_t again_len = 0;
    CHECK_OK(ms_context_join_in_place(c, &again, &again_len));
    CHECK(again == text && again_len == len);
    ms_buf_clear(&want);
    CHECK_OK(ms_context_join(c, &want));
    CHECK(want.len == len && (len == 0 || memcmp(want.p, text, len) == 0));
    ms_buf_free(&want);
}

/* In place: texts with and without a final newline, empty ones, a PDF, a BOM; then nothing
   more may be added. */
static void test_join_in_place(void)
{
    char p[PATH_MAX], why[512];
    ms_context c;
    ms_buf pdf;
    mk("inplace");
    put_s("inplace/a.txt", "no newline at the end");
    put_s("inplace/b.md", "# ends with one\n");
    put_s("inplace/c.txt", "");
    put_s("inplace/d.txt", "\xef\xbb\xbf" "bom, then text\n\n");
    ms_buf_init(&pdf, 1u << 20);
    pdf_two_pages(&pdf, "First page of the report.", "Second page.");
    put("inplace/e.pdf", pdf.p, pdf.len);
    ms_buf_free(&pdf);
    put_s("inplace/f.c", "int f(void) { return 1; }");

    ms_context_init(&c);
    path_of(p, "inplace");
    CHECK_OK(ms_context_add(&c, p, why, sizeof why));
    CHECK_OK(ms_context_add_text(&c, "context[0]", MS_DOC_TEXT, "held in memory", 14, why,
                                 sizeof why));
    CHECK(c.n == 7);
    check_in_place(&c);
    const char *text = NULL;
    size_t len = 0;
    CHECK_OK(ms_context_join_in_place(&c, &text, &len));
    CHECK(strstr(text, "e.pdf (PDF, 2 pages) ===\nFirst page of the report.\fSecond page.\n\n"
                       "=== FILE ") != NULL);
    CHECK(strstr(text, "a.txt (text) ===\nno newline at the end\n\n=== FILE ") != NULL);
    CHECK(strstr(text, "c.txt (text) ===\n\n=== FILE ") != NULL); /* empty: no extra line */
    CHECK(strstr(text, "d.txt (text) ===\nbom, then text\n\n\n=== FILE ") != NULL);
    CHECK_ERR(ms_context_add(&c, p, why, sizeof why), MS_ERR_ARG);
    CHECK_ERR(ms_context_add_text(&c, "x", MS_DOC_TEXT, "x", 1, why, sizeof why), MS_ERR_ARG);
    CHECK_ERR(ms_context_add_pdf(&c, "x.pdf", (const uint8_t *)"%PDF", 4, why, sizeof why),
              MS_ERR_ARG);
    CHECK(c.n == 7);
    CHECK_ERR(ms_context_join_in_place(NULL, &text, &len), MS_ERR_ARG);
    ms_context_free(&c);

    /* One document; none at all (an empty text, never NULL). */
    ms_context_init(&c);
    CHECK_OK(ms_context_add_text(&c, "only", MS_DOC_CODE, "x\n", 2, why, sizeof why));
    check_in_place(&c);
    ms_context_free(&c);
    ms_context_init(&c);
    CHECK_OK(ms_context_join_in_place(&c, &text, &len));
    CHECK(text != NULL && len == 0 && text[0] == '\0');
    CHECK_ERR(ms_context_add_text(&c, "late", MS_DOC_TEXT, "x", 1, why, sizeof why), MS_ERR_ARG);
    ms_context_free(&c);

    /* Every file skipped: the buffer was reserved, but the text is empty. */
    mk("inplace-skipped");
    put_s("inplace-skipped/latin1.txt", "caf\xe9\n");
    ms_context_init(&c);
    path_of(p, "inplace-skipped");
    CHECK_OK(ms_context_add(&c, p, why, sizeof why));
    CHECK(c.n == 0 && c.n_skipped == 1);
    CHECK_OK(ms_context_join_in_place(&c, &text, &len));
    CHECK(text != NULL && len == 0 && text[0] == '\0');
    ms_context_free(&c);
}

/* Caps raised after the first document: the buffer grows (texts moved over, the old copy
   wiped), the join is still exact; a file exactly at the cap fits, one byte more does not. */
static void test_buffer_growth(void)
{
    char p[PATH_MAX], why[512], name[32];
    static char big[3000];
    ms_context c;
    ms_context_init(&c);
    c.max_bytes = 100;
    c.max_files = 1;
    CHECK_OK(ms_context_add_text(&c, "first", MS_DOC_TEXT, "one\n", 4, why, sizeof why));
    char *before = c.buf;
    size_t cap = c.buf_cap;
    CHECK(before != NULL && cap >= 100 + 1);
    c.max_bytes = 1u << 20;
    c.max_files = 40;
    memset(big, 'b', sizeof big);
    for (int i = 0; i < 30; i++) {
        snprintf(name, sizeof name, "doc-%d", i);
        CHECK_OK(ms_context_add_text(&c, name, MS_DOC_TEXT, big, sizeof big, why, sizeof why));
    }
    CHECK(c.buf_cap > cap && c.n == 31);
    CHECK(c.docs[0].text >= c.buf && c.docs[0].text < c.buf + c.buf_cap &&
          strcmp(c.docs[0].text, "one\n") == 0);
    for (size_t i = 1; i < c.n; i++) {
        CHECK(c.docs[i].len == sizeof big && memcmp(c.docs[i].text, big, sizeof big) == 0 &&
              c.docs[i].text[sizeof big] == '\0');
    }
    check_in_place(&c);
    ms_context_free(&c);

    /* Exactly the room left, then one byte over it. */
    mk("exact");
    put_s("exact/a.txt", "0123456789");
    ms_context_init(&c);
    c.max_bytes = 10;
    path_of(p, "exact/a.txt");
    CHECK_OK(ms_context_add(&c, p, why, sizeof why));
    CHECK(c.total == 10 && strcmp(c.docs[0].text, "0123456789") == 0);
    ms_context_free(&c);
    put_s("exact/b.txt", "0123456789X");
    ms_context_init(&c);
    c.max_bytes = 10;
    path_of(p, "exact/b.txt");
    CHECK_ERR(ms_context_add(&c, p, why, sizeof why), MS_ERR_CAP_EXCEEDED);
    CHECK(c.n == 0 && c.total == 0 && c.buf_len == 0);
    /* the bytes read into the buffer before the refusal are wiped */
    CHECK(c.buf != NULL && memchr(c.buf, '0', 10) == NULL && memchr(c.buf, '9', 10) == NULL);
    ms_context_free(&c);
}

/* Documents held in memory (--stdin-json's texts): same checks and caps as files. */
static void test_add_text(void)
{
    char why[256];
    ms_context c;
    ms_context_init(&c);
    c.max_bytes = 12;
    c.max_files = 2;
    CHECK_OK(ms_context_add_text(&c, "context[0]", MS_DOC_TEXT, "hello", 5, why, sizeof why));
    CHECK(c.n == 1 && c.total == 5 && strcmp(c.docs[0].text, "hello") == 0);
    CHECK_ERR(ms_context_add_text(&c, "context[1]", MS_DOC_TEXT, "caf\xe9", 4, why, sizeof why),
              MS_ERR_FILE_FORMAT);
    CHECK(strstr(why, "context[1]: not UTF-8") == why);
    CHECK_ERR(ms_context_add_text(&c, "context[1]", MS_DOC_TEXT, "12345678", 8, why, sizeof why),
              MS_ERR_CAP_EXCEEDED);
    CHECK_OK(ms_context_add_text(&c, "context[1]", MS_DOC_MARKDOWN, "1234567", 7, why, sizeof why));
    CHECK(c.total == 12);
    CHECK_ERR(ms_context_add_text(&c, "context[2]", MS_DOC_TEXT, "", 0, why, sizeof why),
              MS_ERR_CAP_EXCEEDED); /* a third document */
    CHECK(strstr(why, "more than 2 documents") != NULL);
    CHECK_ERR(ms_context_add_text(&c, "x", MS_DOC_PDF, "%PDF", 4, why, sizeof why), MS_ERR_ARG);
    ms_context_free(&c);
}

static void test_utf8(void)
{
    static const struct {
        const char *s;
        size_t n;
        int ok;
    } cases[] = {
        {"plain", 5, 1},
        {"caf\xc3\xa9", 5, 1},
        {"\xf0\x9f\x94\x92 lock", 9, 1},
        {"\xe2\x82\xac", 3, 1},
        {"\xc0\x80", 2, 0},             /* overlong NUL */
        {"\xe0\x80\xaf", 3, 0},         /* overlong '/' */
        {"\xed\xa0\x80", 3, 0},         /* surrogate */
        {"\xf4\x90\x80\x80", 4, 0},     /* above U+10FFFF */
        {"\xe2\x82", 2, 0},             /* cut */
        {"\x80", 1, 0},                 /* lone continuation */
        {"a\0b", 3, 0},                 /* NUL */
        {"\xf8\x88\x80\x80\x80", 5, 0}, /* 5-byte form */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(ms_context_text_ok((const uint8_t *)cases[i].s, cases[i].n) == cases[i].ok);
    }
    char sum[16];
    ms_context c;
    ms_context_init(&c);
    ms_context_summary(&c, sum, sizeof sum);
    CHECK(strcmp(sum, "0 documents; 0 ") == 0); /* cut to fit, NUL-terminated */
    CHECK(strcmp(ms_doc_kind_name(MS_DOC_PDF), "PDF") == 0);
}

int main(void)
{
    if (e2e_tmpdir_new("ctx", g_dir) != 0) {
        return 1;
    }
    RUN(test_tree);
    RUN(test_empty_folder);
    RUN(test_named_files);
    RUN(test_caps);
    RUN(test_pdf);
    RUN(test_add_text);
    RUN(test_join_in_place);
    RUN(test_buffer_growth);
    RUN(test_utf8);
    e2e_tmpdir_remove(g_dir);
    return TEST_SUMMARY();
}
