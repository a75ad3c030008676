/* libFuzzer target for the metadata parsing of `docker load` (berth_archive_load), run under
 * ASan+UBSan. Each input is packed (libarchive, into a memfd) into a small image archive three
 * times and loaded into one store opened at start-up:
 *   1. as manifest.json (docker save's list of {Config, RepoTags, Layers}),
 *   2. as index.json (an OCI image layout),
 *   3. as the blob blobs/sha256/<FUZZ_BLOB> that a fixed index.json points to (an image
 *      manifest or a nested index).
 * Every archive also holds a real image in both layouts (the files below), so inputs that name
 * them get past the paths into the layers, the config and the tags. A load must fail with an
 * error or succeed with a list of loaded images, never crash, leak memory or fds, and leave its
 * work directory removed and the store consistent (list, lookup, layer paths). After each load,
 * the store is put back to its start-up state (two images, two tags), so runs are reproducible.
 *
 * The files of the fixed image (digests checked at start-up; the seeds use them):
 *   layer 1  sha256:070b7aa2b10022eff0b55da4951069aae70218372d660653997ec2d9328d8fac  (/hello)
 *   layer 2  sha256:befc15a85fa007fa73b617f604533e33c6eb3af4aa0792fe3ff3f4784cc4b5f9  (/world)
 *   config   sha256:cfc9076d9ef53c1937e8641283a9b1a0a38bf7a7d46f9adf313334ef5ff11ef2  (layer 1)
 *   config2  sha256:7569080a2d61bc96c40c2485c3e15ef25449045feeeb6a86d791f08ee69df6d1  (1 and 2)
 *   manifest sha256:5cacfa03f616f9c5dc6a4e4bd37831fb709de3529748a16291ee3f2a2a087670
 *   index    sha256:a0d3ba5ebbadb858c1b5cf5a36e49de49ea12de99f0fee34fe916394457157dc  (nested)
 * laid out as blobs/sha256/<hex>, and the legacy way as <LEGACY_V1>/layer.tar,
 * <LEGACY_V2>/layer.tar, <config hex>.json and repositories. Seeds: tests/fuzz/corpus/manifest/. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "core/util.h"
#include "image/archive.h"
#include "image/digest.h"
#include "image/reference.h"
#include "image/store.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LAYER1_HEX "070b7aa2b10022eff0b55da4951069aae70218372d660653997ec2d9328d8fac"
#define LAYER2_HEX "befc15a85fa007fa73b617f604533e33c6eb3af4aa0792fe3ff3f4784cc4b5f9"
#define CONFIG_HEX "cfc9076d9ef53c1937e8641283a9b1a0a38bf7a7d46f9adf313334ef5ff11ef2"
#define CONFIG2_HEX "7569080a2d61bc96c40c2485c3e15ef25449045feeeb6a86d791f08ee69df6d1"
#define MANIFEST_HEX "5cacfa03f616f9c5dc6a4e4bd37831fb709de3529748a16291ee3f2a2a087670"
#define INDEX_HEX "a0d3ba5ebbadb858c1b5cf5a36e49de49ea12de99f0fee34fe916394457157dc"
/* the legacy v1 layer ids (any hex: docker save derived them from the layer chain) */
#define LEGACY_V1 "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
#define LEGACY_V2 "2b7c0cd8d5e4bb8c7d0e7e3fbd23d1f1d4e0c0b2d5a5c8f8e8a6c1f3b9d7e2a4"
/* where pass 3 puts the input (not its digest: the loader reads blobs by name) */
#define FUZZ_BLOB "f00df00df00df00df00df00df00df00df00df00df00df00df00df00df00df00d"

#define HISTORY_1 "{\"created\":\"2024-01-02T03:04:05Z\",\"created_by\":\"COPY hello /\"}"
#define HISTORY_2 "{\"created\":\"2024-01-02T03:04:06Z\",\"created_by\":\"COPY world /\"}"

static const char config_text[] =
    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-01-02T03:04:05Z\","
    "\"config\":{\"Cmd\":[\"/hello\"],\"Labels\":{\"fuzz\":\"base\"}},"
    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" LAYER1_HEX "\"]},"
    "\"history\":[" HISTORY_1 "]}";
static const char config2_text[] =
    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-01-02T03:04:06Z\","
    "\"config\":{\"Cmd\":[\"/hello\"],\"Labels\":{\"fuzz\":\"two\"}},"
    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" LAYER1_HEX "\",\"sha256:" LAYER2_HEX
    "\"]},\"history\":[" HISTORY_1 "," HISTORY_2 "]}";
static const char manifest_text[] =
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
    "\"digest\":\"sha256:" CONFIG_HEX "\",\"size\":312},"
    "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
    "\"digest\":\"sha256:" LAYER1_HEX "\",\"size\":2048}]}";
static const char index_text[] =
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
    "\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":"
    "\"sha256:" MANIFEST_HEX "\",\"size\":397,\"platform\":{\"architecture\":\"amd64\","
    "\"os\":\"linux\"}}]}";
static const char pass3_index_text[] =
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
    "\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":"
    "\"sha256:" FUZZ_BLOB "\",\"size\":1,\"annotations\":{\"io.containerd.image.name\":"
    "\"docker.io/library/fuzz:blob\"}}]}";
static const char repositories_text[] = "{\"fuzz\":{\"base\":\"" LEGACY_V1 "\"}}";
/* the archive that makes the start-up state */
static const char base_manifest_text[] =
    "[{\"Config\":\"" CONFIG_HEX ".json\",\"RepoTags\":[\"fuzz:base\"],\"Layers\":[\"" LEGACY_V1
    "/layer.tar\"]},{\"Config\":\"blobs/sha256/" CONFIG2_HEX "\",\"RepoTags\":[\"fuzz:two\"],"
    "\"Layers\":[\"blobs/sha256/" LAYER1_HEX "\",\"blobs/sha256/" LAYER2_HEX "\"]}]";

/* A one-file ustar layer, built by hand so its bytes (and digest) never change. */
static void
make_layer(unsigned char out[2048], const char *name, const char *content)
{
    memset(out, 0, 2048);
    memcpy(out, name, strlen(name));
    memcpy(out + 100, "0000644", 8);
    memcpy(out + 108, "0000000", 8);
    memcpy(out + 116, "0000000", 8);
    snprintf((char *)out + 124, 12, "%011o", (unsigned)strlen(content));
    memcpy(out + 136, "00000000000", 12);
    memset(out + 148, ' ', 8);
    out[156] = '0';
    memcpy(out + 257, "ustar", 6);
    memcpy(out + 263, "00", 2);
    unsigned sum = 0;
    for (size_t i = 0; i < 512; i++)
        sum += out[i];
    snprintf((char *)out + 148, 8, "%06o", sum);
    out[155] = ' ';
    memcpy(out + 512, content, strlen(content));
}

static unsigned char layer1[2048], layer2[2048];
static char tmp_root[64], data_root[128];
static struct berth_store *store;
static char keep_ids[2][72];
static unsigned long n_loads;

struct file {
    const char *path;
    const void *data;
    size_t len;
};

/* Packs files into a tar in a new memfd, at offset 0. */
static int
pack(const struct file *files, size_t n)
{
    int fd = memfd_create("fuzz-manifest", MFD_CLOEXEC);
    if (fd < 0)
        abort();
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (archive_write_open_fd(a, fd) != ARCHIVE_OK)
        abort();
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, files[i].path);
        archive_entry_set_mode(e, S_IFREG | 0644);
        archive_entry_set_size(e, (la_int64_t)files[i].len);
        if (archive_write_header(a, e) != ARCHIVE_OK ||
            (files[i].len &&
             archive_write_data(a, files[i].data, files[i].len) != (la_ssize_t)files[i].len))
            abort();
        archive_entry_free(e);
    }
    if (archive_write_close(a) != ARCHIVE_OK)
        abort();
    archive_write_free(a);
    lseek(fd, 0, SEEK_SET);
    return fd;
}

static int
count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        abort();
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static void
fail(const char *what, const struct berth_error *err)
{
    fprintf(stderr, "fuzz_manifest: %s%s%s\n", what, err ? ": " : "", err ? err->msg : "");
    abort();
}

/* The store answers for every image it lists, and every layer of each is there. */
static void
check_store(void)
{
    struct berth_image **imgs = NULL;
    size_t n = 0;
    struct berth_error *err = NULL;
    if (berth_store_list(store, &imgs, &n, &err) < 0)
        fail("store list", err);
    if ((int)n != berth_store_count_images(store))
        fail("store list and count disagree", NULL);
    for (size_t i = 0; i < n; i++) {
        struct berth_image *img = NULL;
        if (berth_store_lookup(store, imgs[i]->id, &img, &err) < 0)
            fail("lookup of a listed image", err);
        if (berth_strv_len(img->diff_ids) != berth_strv_len(img->chain_ids))
            fail("diff ids and chain ids differ in number", NULL);
        for (size_t j = 0; img->chain_ids && img->chain_ids[j]; j++) {
            char *p = NULL;
            struct stat st;
            if (berth_store_layer_path(store, img->chain_ids[j], &p, &err) < 0)
                fail("layer of a listed image", err);
            if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
                fail("layer directory missing", NULL);
            free(p);
        }
        berth_image_free(img);
    }
    berth_images_free(imgs, n);
}

/* Back to the start-up state: the two kept images, tagged fuzz:base and fuzz:two only. */
static void
reset_store(void)
{
    struct berth_image **imgs = NULL;
    size_t n = 0;
    struct berth_error *err = NULL;
    if (berth_store_list(store, &imgs, &n, &err) < 0)
        fail("store list", err);
    bool seen[2] = {false, false};
    for (size_t i = 0; i < n; i++) {
        int k = !strcmp(imgs[i]->id, keep_ids[0]) ? 0 : !strcmp(imgs[i]->id, keep_ids[1]) ? 1 : -1;
        if (k < 0) {
            if (berth_store_delete_image(store, imgs[i]->id, true, NULL, &err) < 0)
                fail("delete a loaded image", err);
            continue;
        }
        seen[k] = true;
        const char *want = k == 0 ? "docker.io/library/fuzz:base" : "docker.io/library/fuzz:two";
        for (size_t t = 0; imgs[i]->tags && imgs[i]->tags[t]; t++)
            if (strcmp(imgs[i]->tags[t], want) &&
                berth_store_untag(store, imgs[i]->tags[t], &err) < 0)
                fail("untag", err);
        for (size_t t = 0; imgs[i]->digests && imgs[i]->digests[t]; t++)
            if (berth_store_untag(store, imgs[i]->digests[t], &err) < 0)
                fail("untag a digest", err);
        bool tagged = false;
        for (size_t t = 0; imgs[i]->tags && imgs[i]->tags[t]; t++)
            tagged |= !strcmp(imgs[i]->tags[t], want);
        if (!tagged && berth_store_tag(store, imgs[i]->id, want, &err) < 0)
            fail("retag", err);
    }
    berth_images_free(imgs, n);
    if (!seen[0] || !seen[1])
        fail("a start-up image disappeared", NULL);
}

/* Loads one archive and checks the contract; returns the number of images loaded. */
static size_t
load(const struct file *files, size_t n_files)
{
    int fd = pack(files, n_files);
    char work[256];
    snprintf(work, sizeof(work), "%s/work-%lu", tmp_root, n_loads++);
    int fds_before = count_fds();
    json_t *loaded = NULL;
    struct berth_error *err = NULL;
    int r = berth_archive_load(store, fd, work, &loaded, &err);
    close(fd);
    if (r < 0 && (loaded || !err || !err->msg || err->code <= 0 || r != -err->code))
        fail("the error contract is broken", err);
    if (r == 0 && (err || !json_is_array(loaded)))
        fail("success without a list of loaded images", err);
    if (count_fds() != fds_before - 1)
        fail("berth_archive_load leaked a file descriptor", err);
    struct stat st;
    if (lstat(work, &st) == 0)
        fail("the work directory was left behind", err);
    size_t n = 0;
    json_t *img;
    size_t i;
    json_array_foreach(loaded, i, img)
    {
        const char *id = json_string_value(json_object_get(img, "id"));
        struct berth_image *got = NULL;
        if (!id || !berth_digest_valid(id) || !json_is_array(json_object_get(img, "tags")))
            fail("malformed entry in the list of loaded images", NULL);
        if (berth_store_lookup(store, id, &got, &err) < 0)
            fail("a loaded image is not in the store", err);
        berth_image_free(got);
        n++;
    }
    json_decref(loaded);
    berth_error_free(err);
    check_store();
    reset_store();
    return n;
}

static void
cleanup(void)
{
    berth_store_close(store);
    store = NULL;
    berth_rm_rf(tmp_root, NULL);
}

static void
check_digest(const void *data, size_t len, const char *hex)
{
    char d[72];
    berth_digest_buffer(data, len, d);
    if (strcmp(d + 7, hex) != 0) {
        fprintf(stderr, "fuzz_manifest: fixed file has digest %s, expected sha256:%s\n", d, hex);
        abort();
    }
}

/* The fixed files of every archive, with extra (input-dependent) files after them. */
#define N_FIXED 14
static struct file fixed[N_FIXED + 2];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    berth_log_open(NULL, BERTH_LOG_TEXT, BERTH_LOG_ERROR);
    make_layer(layer1, "hello", "hi\n");
    make_layer(layer2, "world", "world\n");
    check_digest(layer1, sizeof(layer1), LAYER1_HEX);
    check_digest(layer2, sizeof(layer2), LAYER2_HEX);
    check_digest(config_text, strlen(config_text), CONFIG_HEX);
    check_digest(config2_text, strlen(config2_text), CONFIG2_HEX);
    check_digest(manifest_text, strlen(manifest_text), MANIFEST_HEX);
    check_digest(index_text, strlen(index_text), INDEX_HEX);
    static const char version[] = "1.0";
    static const char v1_json[] = "{\"id\":\"" LEGACY_V1 "\",\"created\":\"2024-01-02T03:04:05Z\"}";
    static const char v2_json[] = "{\"id\":\"" LEGACY_V2 "\",\"parent\":\"" LEGACY_V1 "\"}";
    static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
    const struct file f[N_FIXED] = {
        {"blobs/sha256/" LAYER1_HEX, layer1, sizeof(layer1)},
        {"blobs/sha256/" LAYER2_HEX, layer2, sizeof(layer2)},
        {"blobs/sha256/" CONFIG_HEX, config_text, strlen(config_text)},
        {"blobs/sha256/" CONFIG2_HEX, config2_text, strlen(config2_text)},
        {"blobs/sha256/" MANIFEST_HEX, manifest_text, strlen(manifest_text)},
        {"blobs/sha256/" INDEX_HEX, index_text, strlen(index_text)},
        {LEGACY_V1 "/layer.tar", layer1, sizeof(layer1)},
        {LEGACY_V1 "/VERSION", version, strlen(version)},
        {LEGACY_V1 "/json", v1_json, strlen(v1_json)},
        {LEGACY_V2 "/layer.tar", layer2, sizeof(layer2)},
        {LEGACY_V2 "/json", v2_json, strlen(v2_json)},
        {CONFIG_HEX ".json", config_text, strlen(config_text)},
        {"repositories", repositories_text, strlen(repositories_text)},
        {"oci-layout", layout, strlen(layout)},
    };
    memcpy(fixed, f, sizeof(f));

    /* tmpfs when there is one: the store fsyncs every blob and transaction */
    snprintf(tmp_root, sizeof(tmp_root), "/dev/shm/berth-fuzz-manifest-XXXXXX");
    if (!mkdtemp(tmp_root)) {
        snprintf(tmp_root, sizeof(tmp_root), "/tmp/berth-fuzz-manifest-XXXXXX");
        if (!mkdtemp(tmp_root))
            abort();
    }
    snprintf(data_root, sizeof(data_root), "%s/data", tmp_root);
    struct berth_error *err = NULL;
    if (berth_store_open(data_root, BERTH_DRIVER_VFS, &store, &err) < 0)
        fail("open the store", err);
    atexit(cleanup);

    /* the start-up state: both fixed images, loaded once (their layers unpacked once) */
    fixed[N_FIXED] = (struct file){"manifest.json", base_manifest_text, strlen(base_manifest_text)};
    int fd = pack(fixed, N_FIXED + 1);
    json_t *loaded = NULL;
    char work[256];
    snprintf(work, sizeof(work), "%s/work-init", tmp_root);
    if (berth_archive_load(store, fd, work, &loaded, &err) < 0)
        fail("load the start-up images", err);
    close(fd);
    for (size_t i = 0; i < 2; i++) {
        const char *id = json_string_value(json_object_get(json_array_get(loaded, i), "id"));
        if (!id)
            fail("the start-up archive loaded less than two images", NULL);
        snprintf(keep_ids[i], sizeof(keep_ids[i]), "%s", id);
    }
    json_decref(loaded);
    check_store();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* 1: manifest.json */
    fixed[N_FIXED] = (struct file){"manifest.json", data, size};
    load(fixed, N_FIXED + 1);
    /* 2: index.json */
    fixed[N_FIXED] = (struct file){"index.json", data, size};
    load(fixed, N_FIXED + 1);
    /* 3: a blob that a fixed index.json points to */
    fixed[N_FIXED] = (struct file){"index.json", pass3_index_text, strlen(pass3_index_text)};
    fixed[N_FIXED + 1] = (struct file){"blobs/sha256/" FUZZ_BLOB, data, size};
    load(fixed, N_FIXED + 2);
    return 0;
}
