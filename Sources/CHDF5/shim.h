// What Swift cannot import from <hdf5.h>: the H5T_NATIVE_* / H5P_* / H5F_ACC_*
// macros (which expand to library globals or casts), and the calls whose
// names are version-dependent macros (H5Lget_info, error-stack walking).
#include <hdf5.h>
#include <string.h>

static inline hid_t zoo_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t zoo_h5s_all(void) { return H5S_ALL; }
static inline hid_t zoo_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t zoo_h5p_file_create(void) { return H5P_FILE_CREATE; }
static inline hid_t zoo_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t zoo_h5p_link_create(void) { return H5P_LINK_CREATE; }
static inline unsigned zoo_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned zoo_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline haddr_t zoo_haddr_undef(void) { return HADDR_UNDEF; }

static inline hid_t zoo_h5t_c_s1(void) { return H5T_C_S1; }
static inline hid_t zoo_h5t_std_i8le(void) { return H5T_STD_I8LE; }
static inline hid_t zoo_h5t_std_i16le(void) { return H5T_STD_I16LE; }
static inline hid_t zoo_h5t_std_i32le(void) { return H5T_STD_I32LE; }
static inline hid_t zoo_h5t_std_i64le(void) { return H5T_STD_I64LE; }
static inline hid_t zoo_h5t_std_u8le(void) { return H5T_STD_U8LE; }
static inline hid_t zoo_h5t_std_u16le(void) { return H5T_STD_U16LE; }
static inline hid_t zoo_h5t_std_u32le(void) { return H5T_STD_U32LE; }
static inline hid_t zoo_h5t_std_u64le(void) { return H5T_STD_U64LE; }
static inline hid_t zoo_h5t_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t zoo_h5t_ieee_f64le(void) { return H5T_IEEE_F64LE; }

/// The type of the link `name` in `loc` (H5L_TYPE_HARD, _SOFT, _EXTERNAL), or -1.
static inline int zoo_link_type(hid_t loc, const char *name) {
    H5L_info_t info;
    if (H5Lget_info(loc, name, &info, H5P_DEFAULT) < 0) return -1;
    return (int)info.type;
}

/// Turns off HDF5's automatic printing of error stacks to stderr.
static inline herr_t zoo_silence_errors(void) { return H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

typedef struct { char *buffer; size_t size; size_t used; } zoo_error_text;

static inline herr_t zoo_error_walk(unsigned n, const H5E_error2_t *error, void *data) {
    zoo_error_text *text = (zoo_error_text *)data;
    const char *description = (error->desc && error->desc[0]) ? error->desc : "(no description)";
    int written = snprintf(text->buffer + text->used, text->size - text->used, "%s%s: %s",
                           text->used ? "; " : "", error->func_name ? error->func_name : "?", description);
    if (written > 0) {
        size_t advance = (size_t)written;
        text->used = (text->used + advance < text->size) ? text->used + advance : text->size - 1;
    }
    (void)n;
    return 0;
}

/// Writes the current error stack, innermost first, into `buffer` as one line; then clears it.
static inline void zoo_error_summary(char *buffer, size_t size) {
    zoo_error_text text = { buffer, size, 0 };
    if (size == 0) return;
    buffer[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, zoo_error_walk, &text);
    H5Eclear2(H5E_DEFAULT);
}

/// Frees the strings of a variable-length string read (H5Dvlen_reclaim before 1.12, H5Treclaim after).
static inline herr_t zoo_vlen_reclaim(hid_t type, hid_t space, void *buffer) {
#if H5_VERSION_GE(1, 12, 0)
    return H5Treclaim(type, space, H5P_DEFAULT, buffer);
#else
    return H5Dvlen_reclaim(type, space, H5P_DEFAULT, buffer);
#endif
}

static inline hid_t zoo_h5t_variable_string(void) {
    hid_t type = H5Tcopy(H5T_C_S1);
    if (type < 0) return type;
    if (H5Tset_size(type, H5T_VARIABLE) < 0) { H5Tclose(type); return -1; }
    H5Tset_cset(type, H5T_CSET_UTF8);
    return type;
}

/// A number that orders objects by where they sit in the file (their header
/// address), hence by creation order for files written front to back; 0 on failure.
static inline unsigned long long zoo_object_position(hid_t loc, const char *name) {
#if H5_VERSION_GE(1, 12, 0)
    H5O_info2_t info;
    if (H5Oget_info_by_name3(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return 0;
    unsigned long long position = 0;
    memcpy(&position, &info.token, sizeof(position) < sizeof(info.token) ? sizeof(position) : sizeof(info.token));
    return position;
#else
    H5O_info_t info;
    if (H5Oget_info_by_name2(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return 0;
    return (unsigned long long)info.addr;
#endif
}

/// h5py's boolean type: an int8 enum {FALSE: 0, TRUE: 1}.
static inline hid_t zoo_h5t_bool_enum(void) {
    hid_t type = H5Tenum_create(H5T_NATIVE_INT8);
    if (type < 0) return type;
    signed char no = 0, yes = 1;
    if (H5Tenum_insert(type, "FALSE", &no) < 0 || H5Tenum_insert(type, "TRUE", &yes) < 0) { H5Tclose(type); return -1; }
    return type;
}

/// A little-endian IEEE-style float of `size` bytes with the given fields
/// (float16: 2, 10 mantissa, 5 exponent, bias 15; bfloat16: 2, 7, 8, 127), as h5py builds them.
static inline hid_t zoo_h5t_small_float(size_t mantissa_bits, size_t exponent_bits, size_t bias) {
    hid_t type = H5Tcopy(H5T_IEEE_F32LE);
    if (type < 0) return type;
    size_t sign_position = mantissa_bits + exponent_bits;
    if (H5Tset_fields(type, sign_position, mantissa_bits, exponent_bits, 0, mantissa_bits) < 0 ||
        H5Tset_size(type, 2) < 0 || H5Tset_ebias(type, bias) < 0) { H5Tclose(type); return -1; }
    return type;
}

/// A dataset access list with the raw-data chunk cache off (0 bytes): libhdf5 then
/// reads unfiltered chunks straight into the caller's buffer instead of through the cache.
static inline hid_t zoo_dapl_without_chunk_cache(void) {
    hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
    if (dapl < 0) return dapl;
    if (H5Pset_chunk_cache(dapl, H5D_CHUNK_CACHE_NSLOTS_DEFAULT, 0, H5D_CHUNK_CACHE_W0_DEFAULT) < 0) { H5Pclose(dapl); return -1; }
    return dapl;
}

/// Whether raw chunks can be read (H5Dget_chunk_storage_size, H5Dread_chunk: libhdf5 1.10.2+).
/// (HDF5 2.0 changed H5Dread_chunk's signature: not used there yet, H5Dread instead.)
static inline int zoo_has_raw_chunk_read(void) {
#if H5_VERSION_GE(1, 10, 2) && !H5_VERSION_GE(2, 0, 0)
    return 1;
#else
    return 0;
#endif
}

/// The stored (filtered) size of the chunk at `offset`; -1 where unsupported or on failure.
static inline herr_t zoo_chunk_storage_size(hid_t dataset, const hsize_t *offset, hsize_t *size) {
#if H5_VERSION_GE(1, 10, 2)
    return H5Dget_chunk_storage_size(dataset, offset, size);
#else
    (void)dataset; (void)offset; (void)size;
    return -1;
#endif
}

/// Reads the raw (still filtered) chunk at `offset` into `buffer`; `filter_mask` gets
/// the filters that were skipped when it was written. -1 where unsupported or on failure.
static inline herr_t zoo_read_chunk(hid_t dataset, const hsize_t *offset, uint32_t *filter_mask, void *buffer) {
#if H5_VERSION_GE(1, 10, 2) && !H5_VERSION_GE(2, 0, 0)
    return H5Dread_chunk(dataset, H5P_DEFAULT, offset, filter_mask, buffer);
#else
    (void)dataset; (void)offset; (void)filter_mask; (void)buffer;
    return -1;
#endif
}
