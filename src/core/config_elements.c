/* elements: the libfixbuf XML files to load, from directories (each in name order) and one by
 * one; the shipped vendor files when none are named. */
#include "core/config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "core/config_internal.h"

/* Appends a copy of path to cfg->element_files. */
static int
add_element_file(struct walk *w, const yaml_node_t *n, const char *path)
{
    struct ixd_config *cfg = w->cfg;
    char **grown, *copy;

    grown = realloc(cfg->element_files, (cfg->n_element_files + 1) * sizeof(char *));
    if (grown == NULL) {
        return ixd_cfg_fail(w, n, "out of memory");
    }
    cfg->element_files = grown;
    copy = strdup(path);
    if (copy == NULL) {
        return ixd_cfg_fail(w, n, "out of memory");
    }
    /* not a file for ixd_config_check_files: element files are read at start, before ipfixd
     * opens files as its user, by whoever started it (ixd_ie_registry_new reports them) */
    cfg->element_files[cfg->n_element_files++] = copy;
    return 0;
}

static int
compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
is_xml_name(const char *name)
{
    size_t len = strlen(name);

    /* hidden files are editors' and package managers' leftovers, not element files */
    return name[0] != '.' && len > 4 && strcmp(name + len - 4, ".xml") == 0;
}

/*
 * Adds every *.xml of dir in byte order of the names, so that the order files are loaded in
 * (and so which definition of an element wins) is the same on every machine. A directory that
 * cannot be read is an error at n; optional (the default directory) tolerates a missing one.
 */
static int
add_element_directory(struct walk *w, const yaml_node_t *n, const char *dir, int optional)
{
    char **names = NULL, path[IXD_PATH_MAX];
    size_t count = 0, i;
    struct dirent *de;
    int rc = 0;
    DIR *d;

    if ((w->flags & IXD_CONFIG_SYNTAX_ONLY) && !optional) {
        return 0; /* the directory is on the machine the config is for; the default one is
                     ipfixd's own, here as there */
    }
    if (w->flags & IXD_CONFIG_RELOAD) {
        return 0; /* element files are read at start only */
    }
    d = opendir(dir);
    if (d == NULL) {
        if (optional && errno == ENOENT) {
            return 0;
        }
        return ixd_cfg_fail(w, n, "cannot read the element directory '%s': %s", dir,
                            strerror(errno));
    }
    while (rc == 0 && (de = readdir(d)) != NULL) {
        char **grown;
        if (!is_xml_name(de->d_name)) {
            continue;
        }
        grown = realloc(names, (count + 1) * sizeof(char *));
        if (grown == NULL || (grown[count] = strdup(de->d_name)) == NULL) {
            names = grown != NULL ? grown : names;
            rc = ixd_cfg_fail(w, n, "out of memory");
            break;
        }
        names = grown;
        count++;
    }
    closedir(d);
    if (rc == 0 && count > 0) {
        qsort(names, count, sizeof(char *), compare_names);
    }
    for (i = 0; rc == 0 && i < count; i++) {
        if ((size_t)snprintf(path, sizeof(path), "%s%s%s", dir,
                             dir[0] != '\0' && dir[strlen(dir) - 1] == '/' ? "" : "/",
                             names[i]) >= sizeof(path)) {
            rc = ixd_cfg_fail(w, n, "element file name too long in '%s'", dir);
        } else {
            rc = add_element_file(w, n, path);
        }
    }
    for (i = 0; i < count; i++) {
        free(names[i]);
    }
    free(names);
    return rc;
}

/*
 * Without elements.directories, the vendor files shipped with ipfixd: the installed copy, or
 * the source tree's when ipfixd runs from a build tree that was never installed.
 */
static const char *
default_element_directory(void)
{
    struct stat st;

    if (stat(IXD_ELEMENTS_DIR, &st) == 0 && S_ISDIR(st.st_mode)) {
        return IXD_ELEMENTS_DIR;
    }
    if (IXD_SOURCE_ELEMENTS_DIR[0] != '\0' && stat(IXD_SOURCE_ELEMENTS_DIR, &st) == 0 &&
        S_ISDIR(st.st_mode)) {
        return IXD_SOURCE_ELEMENTS_DIR;
    }
    return NULL;
}

int
ixd_cfg_default_elements(struct walk *w, const yaml_node_t *at)
{
    const char *dir = default_element_directory();
    char **copy;

    if (dir == NULL) {
        return 0;
    }
    copy = calloc(1, sizeof(char *));
    if (copy == NULL || (copy[0] = strdup(dir)) == NULL) {
        free(copy);
        return ixd_cfg_fail(w, at, "out of memory");
    }
    w->cfg->element_dirs = copy;
    w->cfg->n_element_dirs = 1;
    return add_element_directory(w, at, dir, 1);
}

static int
element_directories(struct walk *w, yaml_node_t *v)
{
    struct ixd_config *cfg = w->cfg;
    yaml_node_item_t *it;
    size_t n;

    if (ixd_cfg_want_sequence(w, v, "elements.directories") == -1) {
        return -1;
    }
    n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    cfg->element_dirs = calloc(n ? n : 1, sizeof(char *));
    if (cfg->element_dirs == NULL) {
        return ixd_cfg_fail(w, v, "out of memory");
    }
    for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *item = ixd_cfg_node(w, *it);
        const char *s;

        if (ixd_cfg_want_scalar(w, item, "an element directory", &s) == -1) {
            return -1;
        }
        if (s[0] == '\0') {
            return ixd_cfg_fail(w, item, "an element directory must not be empty");
        }
        cfg->element_dirs[cfg->n_element_dirs] = strdup(s);
        if (cfg->element_dirs[cfg->n_element_dirs] == NULL) {
            return ixd_cfg_fail(w, item, "out of memory");
        }
        cfg->n_element_dirs++;
        if (add_element_directory(w, item, s, 0) == -1) {
            return -1;
        }
    }
    return 0;
}

static int
element_files(struct walk *w, yaml_node_t *v)
{
    yaml_node_item_t *it;

    if (ixd_cfg_want_sequence(w, v, "elements.files") == -1) {
        return -1;
    }
    for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *item = ixd_cfg_node(w, *it);
        const char *s;

        if (ixd_cfg_want_scalar(w, item, "an element file", &s) == -1) {
            return -1;
        }
        if (add_element_file(w, item, s) == -1) {
            return -1;
        }
    }
    return 0;
}

/*
 * elements: the files of the directories (each in name order, directories in list order), then
 * the files listed one by one; a later definition of an element replaces an earlier one, so a
 * file named in `files` overrides the shipped vendor files.
 */
int
ixd_cfg_parse_elements(struct walk *w, yaml_node_t *map)
{
    yaml_node_t *dirs = NULL, *files = NULL, *enterprise = NULL;
    yaml_node_pair_t *p;

    if (ixd_cfg_want_mapping(w, map, "elements") == -1) {
        return -1;
    }
    for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = ixd_cfg_node(w, p->key);
        const char *key = ixd_cfg_scalar(k);
        yaml_node_t **slot = NULL;

        if (key != NULL && strcmp(key, "directories") == 0) {
            slot = &dirs;
        } else if (key != NULL && strcmp(key, "files") == 0) {
            slot = &files;
        } else if (key != NULL && strcmp(key, "enterprise") == 0) {
            slot = &enterprise;
        } else {
            return ixd_cfg_fail(w, k,
                                "unknown key '%s' in elements (known: directories, files, "
                                "enterprise)",
                                key != NULL ? key : "?");
        }
        if (*slot != NULL) {
            return ixd_cfg_fail(w, k, "duplicate key '%s' in elements", key);
        }
        *slot = ixd_cfg_node(w, p->value);
    }
    /* 0 is IANA's: ipfixd's own elements need an enterprise of their own */
    if (enterprise != NULL && ixd_cfg_get_u32(w, enterprise, "elements.enterprise", 1, UINT32_MAX,
                                              &w->cfg->own_enterprise) == -1) {
        return -1;
    }
    w->elements_done = 1;
    if (dirs != NULL ? element_directories(w, dirs) == -1
                     : ixd_cfg_default_elements(w, map) == -1) {
        return -1;
    }
    return files != NULL ? element_files(w, files) : 0;
}
