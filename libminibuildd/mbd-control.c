/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "mbd-control.h"
#include "mbd-util-private.h"

/**
 * MbdParagraph:
 *
 * One paragraph (stanza) of deb822 control data: an ordered list of fields.
 *
 * Field names are matched case-insensitively, as dpkg does; the order of fields and their
 * original spelling are kept, so [method@Mbd.Paragraph.to_string] writes back what was read.
 *
 * A value is stored the way it appears in the file: the text after the colon with surrounding
 * whitespace removed, followed by each continuation line (with its leading whitespace) on a line of
 * its own. Multiline fields whose first line is empty (`Files:`, `Checksums-Sha256:`) therefore
 * start with a newline. [method@Mbd.Paragraph.get_folded] and [method@Mbd.Paragraph.get_lines]
 * give the folded and the line-wise view.
 */

typedef struct
{
  char *name;  /* (owned) */
  char *value; /* (owned) */
  guint line;
} Field;

static void
field_free (Field *field)
{
  g_free (field->name);
  g_free (field->value);
  g_free (field);
}

struct _MbdParagraph
{
  GObject parent_instance;

  GPtrArray *fields; /* (owned) (element-type Field) */
  guint start_line;
};

G_DEFINE_FINAL_TYPE (MbdParagraph, mbd_paragraph, G_TYPE_OBJECT)

static void
mbd_paragraph_finalize (GObject *object)
{
  MbdParagraph *self = MBD_PARAGRAPH (object);

  g_ptr_array_unref (self->fields);
  G_OBJECT_CLASS (mbd_paragraph_parent_class)->finalize (object);
}

static void
mbd_paragraph_class_init (MbdParagraphClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mbd_paragraph_finalize;
}

static void
mbd_paragraph_init (MbdParagraph *self)
{
  self->fields = g_ptr_array_new_with_free_func ((GDestroyNotify) field_free);
}

/**
 * mbd_paragraph_new:
 *
 * Creates an empty paragraph, to be filled with [method@Mbd.Paragraph.set].
 *
 * Returns: (transfer full): a new paragraph
 */
MbdParagraph *
mbd_paragraph_new (void)
{
  return g_object_new (MBD_TYPE_PARAGRAPH, NULL);
}

static Field *
lookup (MbdParagraph *self, const char *name, guint *index)
{
  for (guint i = 0; i < self->fields->len; i++)
    {
      Field *field = g_ptr_array_index (self->fields, i);
      if (g_ascii_strcasecmp (field->name, name) == 0)
        {
          if (index != NULL)
            *index = i;
          return field;
        }
    }
  return NULL;
}

/**
 * mbd_paragraph_get:
 * @self: a paragraph
 * @field: a field name, matched case-insensitively
 *
 * Looks up the raw value of a field: the first line without surrounding whitespace, then each
 * continuation line, as written, on a line of its own.
 *
 * Returns: (nullable): the value, or %NULL if the paragraph has no such field
 */
const char *
mbd_paragraph_get (MbdParagraph *self, const char *field)
{
  g_return_val_if_fail (MBD_IS_PARAGRAPH (self), NULL);
  g_return_val_if_fail (field != NULL, NULL);

  Field *f = lookup (self, field, NULL);
  return f != NULL ? f->value : NULL;
}

/**
 * mbd_paragraph_get_folded:
 * @self: a paragraph
 * @field: a field name, matched case-insensitively
 *
 * Looks up a field and folds it into one line: every line of the value is stripped and the
 * non-empty ones are joined with single spaces (the reading of `Depends`, `Binary`, `Uploaders`...).
 *
 * Returns: (transfer full) (nullable): the folded value, or %NULL if there is no such field
 */
char *
mbd_paragraph_get_folded (MbdParagraph *self, const char *field)
{
  g_auto (GStrv) lines = mbd_paragraph_get_lines (self, field);

  if (lines == NULL)
    return NULL;
  return g_strjoinv (" ", lines);
}

/**
 * mbd_paragraph_get_lines:
 * @self: a paragraph
 * @field: a field name, matched case-insensitively
 *
 * Looks up a field and splits it into lines, each stripped of surrounding whitespace; empty lines
 * are left out. This is the reading of multiline fields such as `Files` and `Checksums-Sha256`.
 *
 * Returns: (transfer full) (array zero-terminated=1) (nullable): the lines, or %NULL if there is
 *   no such field
 */
char **
mbd_paragraph_get_lines (MbdParagraph *self, const char *field)
{
  const char *value = mbd_paragraph_get (self, field);

  if (value == NULL)
    return NULL;

  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) lines = g_strsplit (value, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_strstrip (lines[i]);
      if (lines[i][0] != '\0')
        g_strv_builder_add (builder, lines[i]);
    }
  return g_strv_builder_end (builder);
}

/**
 * mbd_paragraph_has_field:
 * @self: a paragraph
 * @field: a field name, matched case-insensitively
 *
 * Tells whether the paragraph has a field.
 *
 * Returns: %TRUE if the field is present
 */
gboolean
mbd_paragraph_has_field (MbdParagraph *self, const char *field)
{
  return mbd_paragraph_get (self, field) != NULL;
}

/**
 * mbd_paragraph_get_field_line:
 * @self: a paragraph
 * @field: a field name, matched case-insensitively
 *
 * Gives the line of the parsed input on which a field starts, for error messages.
 *
 * Returns: the 1-based line number, or 0 if the field is missing or was not parsed from text
 */
guint
mbd_paragraph_get_field_line (MbdParagraph *self, const char *field)
{
  g_return_val_if_fail (MBD_IS_PARAGRAPH (self), 0);

  Field *f = lookup (self, field, NULL);
  return f != NULL ? f->line : 0;
}

/**
 * mbd_paragraph_get_start_line:
 * @self: a paragraph
 *
 * Gives the line of the parsed input on which the paragraph starts.
 *
 * Returns: the 1-based line number, or 0 if the paragraph was not parsed from text
 */
guint
mbd_paragraph_get_start_line (MbdParagraph *self)
{
  g_return_val_if_fail (MBD_IS_PARAGRAPH (self), 0);
  return self->start_line;
}

/**
 * mbd_paragraph_get_fields:
 * @self: a paragraph
 *
 * Lists the field names in their order, spelled as in the input.
 *
 * Returns: (transfer full) (array zero-terminated=1): the field names
 */
char **
mbd_paragraph_get_fields (MbdParagraph *self)
{
  g_return_val_if_fail (MBD_IS_PARAGRAPH (self), NULL);

  GStrv names = g_new0 (char *, self->fields->len + 1);
  for (guint i = 0; i < self->fields->len; i++)
    names[i] = g_strdup (((Field *) g_ptr_array_index (self->fields, i))->name);
  return names;
}

/* Continuation lines must start with whitespace; lines a caller passes without it get one space,
 * and empty lines become " ." as deb822 requires. */
static char *
normalize_value (const char *value)
{
  g_auto (GStrv) lines = g_strsplit (value, "\n", -1);
  g_autoptr (GString) out = g_string_new (NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = lines[i];
      if (i == 0)
        {
          g_string_append (out, g_strstrip (line));
          continue;
        }
      g_strchomp (line);
      g_string_append_c (out, '\n');
      if (line[0] == '\0')
        g_string_append (out, " .");
      else if (line[0] != ' ' && line[0] != '\t')
        g_string_append_printf (out, " %s", line);
      else
        g_string_append (out, line);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/**
 * mbd_paragraph_set:
 * @self: a paragraph
 * @field: a field name
 * @value: the value; further lines become continuation lines
 *
 * Sets a field. An existing field keeps its place (and the spelling of its name); a new field is
 * appended.
 */
void
mbd_paragraph_set (MbdParagraph *self, const char *field, const char *value)
{
  g_return_if_fail (MBD_IS_PARAGRAPH (self));
  g_return_if_fail (field != NULL && value != NULL);

  Field *f = lookup (self, field, NULL);
  if (f == NULL)
    {
      f = g_new0 (Field, 1);
      f->name = g_strdup (field);
      g_ptr_array_add (self->fields, f);
    }
  g_free (f->value);
  f->value = normalize_value (value);
}

/**
 * mbd_paragraph_remove:
 * @self: a paragraph
 * @field: a field name, matched case-insensitively
 *
 * Removes a field.
 *
 * Returns: %TRUE if the field was present
 */
gboolean
mbd_paragraph_remove (MbdParagraph *self, const char *field)
{
  guint index;

  g_return_val_if_fail (MBD_IS_PARAGRAPH (self), FALSE);
  if (lookup (self, field, &index) == NULL)
    return FALSE;
  g_ptr_array_remove_index (self->fields, index);
  return TRUE;
}

static void
append_paragraph (MbdParagraph *self, GString *out)
{
  for (guint i = 0; i < self->fields->len; i++)
    {
      Field *f = g_ptr_array_index (self->fields, i);
      g_string_append (out, f->name);
      g_string_append_c (out, ':');
      if (f->value[0] != '\n' && f->value[0] != '\0')
        g_string_append_c (out, ' ');
      g_string_append (out, f->value);
      g_string_append_c (out, '\n');
    }
}

/**
 * mbd_paragraph_to_string:
 * @self: a paragraph
 *
 * Writes the paragraph as deb822 text, one field after the other, ending with a newline.
 *
 * Returns: (transfer full): the text
 */
char *
mbd_paragraph_to_string (MbdParagraph *self)
{
  g_return_val_if_fail (MBD_IS_PARAGRAPH (self), NULL);

  g_autoptr (GString) out = g_string_new (NULL);
  append_paragraph (self, out);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/**
 * MbdControl:
 *
 * Parsed deb822 control data: the paragraphs of a `debian/control`, `.dsc`, `.changes`,
 * `Packages`, `Sources` or `Release` file.
 *
 * The parser follows Debian policy 5.1: paragraphs separated by blank lines, `#` comment lines
 * skipped, continuation lines starting with a space or tab. Input wrapped in an OpenPGP clear
 * signature is unwrapped (dash-escaping removed) and [method@Mbd.Control.is_signed] returns %TRUE;
 * the signature itself is checked by [method@Mbd.Gnupg.verify_clear], not here.
 *
 * Malformed input fails with %MBD_ERROR_PARSE (or %MBD_ERROR_DUPLICATE_FIELD) and a message
 * naming the input and the line: NUL bytes, invalid UTF-8, lines longer than
 * %MBD_CONTROL_MAX_LINE_LENGTH, a line without a colon, a continuation line with no field
 * before it, a truncated clear signature.
 */
struct _MbdControl
{
  GObject parent_instance;

  char *name;            /* (owned) (nullable) */
  GPtrArray *paragraphs; /* (owned) (element-type MbdParagraph) */
  gboolean is_signed;
};

G_DEFINE_FINAL_TYPE (MbdControl, mbd_control, G_TYPE_OBJECT)

static void
mbd_control_finalize (GObject *object)
{
  MbdControl *self = MBD_CONTROL (object);

  g_free (self->name);
  g_ptr_array_unref (self->paragraphs);
  G_OBJECT_CLASS (mbd_control_parent_class)->finalize (object);
}

static void
mbd_control_class_init (MbdControlClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mbd_control_finalize;
}

static void
mbd_control_init (MbdControl *self)
{
  self->paragraphs = g_ptr_array_new_with_free_func (g_object_unref);
}

/**
 * mbd_control_new:
 *
 * Creates control data with no paragraphs, to be filled with
 * [method@Mbd.Control.add_paragraph].
 *
 * Returns: (transfer full): new, empty control data
 */
MbdControl *
mbd_control_new (void)
{
  return g_object_new (MBD_TYPE_CONTROL, NULL);
}

typedef struct
{
  const char *name;
  const char *data;
  gsize length;
  gsize pos;
  guint lineno;
} Reader;

/* Returns the next line (without its newline, trailing whitespace removed) or NULL at the end. */
static gboolean
next_line (Reader *reader, char **out_line, GError **error)
{
  *out_line = NULL;
  if (reader->pos >= reader->length)
    return TRUE;

  const char *start = reader->data + reader->pos;
  const char *nl = memchr (start, '\n', reader->length - reader->pos);
  gsize len = nl != NULL ? (gsize) (nl - start) : reader->length - reader->pos;
  reader->pos += len + (nl != NULL ? 1 : 0);
  reader->lineno++;

  if (len > MBD_CONTROL_MAX_LINE_LENGTH)
    return mbd_throw (error, MBD_ERROR_PARSE,
                      "%s:%u: line is %" G_GSIZE_FORMAT " bytes long, more than the %u allowed",
                      reader->name, reader->lineno, len, (guint) MBD_CONTROL_MAX_LINE_LENGTH);
  const char *nul = memchr (start, '\0', len);
  if (nul != NULL)
    return mbd_throw (error, MBD_ERROR_PARSE, "%s:%u: NUL byte at column %u", reader->name,
                      reader->lineno, (guint) (nul - start) + 1);
  const char *invalid = NULL;
  if (!g_utf8_validate_len (start, len, &invalid))
    return mbd_throw (error, MBD_ERROR_PARSE, "%s:%u: invalid UTF-8 at column %u", reader->name,
                      reader->lineno, (guint) (invalid - start) + 1);

  while (len > 0 && g_ascii_isspace (start[len - 1]))
    len--;
  *out_line = g_strndup (start, len);
  return TRUE;
}

static gboolean
is_blank (const char *line)
{
  for (; *line != '\0'; line++)
    if (*line != ' ' && *line != '\t')
      return FALSE;
  return TRUE;
}

static gboolean
valid_field_name (const char *name, gsize len)
{
  if (len == 0 || name[0] == '-' || name[0] == '#')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (name[i] <= 32 || name[i] >= 127 || name[i] == ':')
      return FALSE;
  return TRUE;
}

#define SIGNED_HEADER "-----BEGIN PGP SIGNED MESSAGE-----"
#define SIGNATURE_BEGIN "-----BEGIN PGP SIGNATURE-----"
#define SIGNATURE_END "-----END PGP SIGNATURE-----"

typedef enum
{
  STATE_PLAIN,          /* unsigned input */
  STATE_ARMOR_HEADERS,  /* "Hash: ..." lines after the signed-message header */
  STATE_SIGNED_BODY,    /* the signed text */
  STATE_SIGNATURE,      /* inside the signature block */
  STATE_AFTER_SIGNATURE /* only blank lines may follow */
} SignState;

static gboolean
parse (MbdControl *self, const char *data, gsize length, GError **error)
{
  Reader reader = { self->name, data, length, 0, 0 };
  SignState state = STATE_PLAIN;
  gboolean seen_content = FALSE;
  g_autoptr (MbdParagraph) current = NULL;
  Field *last = NULL;
  g_autoptr (GString) value = NULL;

  for (;;)
    {
      g_autofree char *line = NULL;
      if (!next_line (&reader, &line, error))
        return FALSE;
      if (line == NULL)
        break;

      switch (state)
        {
        case STATE_PLAIN:
          if (!seen_content && g_str_has_prefix (line, "-----BEGIN PGP"))
            {
              if (strcmp (line, SIGNED_HEADER) != 0)
                {
                  g_autofree char *shown = mbd_utf8_excerpt (line, strlen (line), 80);
                  return mbd_throw (error, MBD_ERROR_PARSE,
                                    "%s:%u: OpenPGP armor '%s' is not a clear-signed message",
                                    reader.name, reader.lineno, shown);
                }
              self->is_signed = TRUE;
              state = STATE_ARMOR_HEADERS;
              continue;
            }
          break;
        case STATE_ARMOR_HEADERS:
          if (line[0] == '\0')
            state = STATE_SIGNED_BODY;
          else if (strchr (line, ':') == NULL)
            return mbd_throw (error, MBD_ERROR_PARSE,
                              "%s:%u: malformed armor header in clear-signed message", reader.name,
                              reader.lineno);
          continue;
        case STATE_SIGNED_BODY:
          if (strcmp (line, SIGNATURE_BEGIN) == 0)
            {
              state = STATE_SIGNATURE;
              line[0] = '\0'; /* ends the last paragraph */
            }
          else if (g_str_has_prefix (line, "- "))
            memmove (line, line + 2, strlen (line + 2) + 1);
          else if (line[0] == '-')
            return mbd_throw (error, MBD_ERROR_PARSE,
                              "%s:%u: line starting with '-' is not dash-escaped in clear-signed "
                              "message",
                              reader.name, reader.lineno);
          break;
        case STATE_SIGNATURE:
          if (strcmp (line, SIGNATURE_END) == 0)
            state = STATE_AFTER_SIGNATURE;
          continue;
        case STATE_AFTER_SIGNATURE:
          if (!is_blank (line))
            return mbd_throw (error, MBD_ERROR_PARSE,
                              "%s:%u: text after the end of the OpenPGP signature", reader.name,
                              reader.lineno);
          continue;
        }

      if (is_blank (line))
        {
          if (current != NULL)
            {
              if (last != NULL)
                last->value = g_string_free (g_steal_pointer (&value), FALSE);
              g_ptr_array_add (self->paragraphs, g_steal_pointer (&current));
              last = NULL;
            }
          continue;
        }
      seen_content = TRUE;
      if (line[0] == '#')
        continue;

      if (line[0] == ' ' || line[0] == '\t')
        {
          if (last == NULL)
            return mbd_throw (error, MBD_ERROR_PARSE,
                              "%s:%u: continuation line without a field before it", reader.name,
                              reader.lineno);
          g_string_append_c (value, '\n');
          g_string_append (value, line);
          continue;
        }

      const char *colon = strchr (line, ':');
      if (colon == NULL)
        return mbd_throw (error, MBD_ERROR_PARSE,
                          "%s:%u: expected 'Field: value', found a line without a colon",
                          reader.name, reader.lineno);
      gsize name_len = colon - line;
      if (!valid_field_name (line, name_len))
        {
          g_autofree char *shown = mbd_utf8_excerpt (line, name_len, 80);
          return mbd_throw (error, MBD_ERROR_PARSE, "%s:%u: invalid field name '%s'", reader.name,
                            reader.lineno, shown);
        }

      if (current == NULL)
        {
          current = mbd_paragraph_new ();
          current->start_line = reader.lineno;
        }
      else
        last->value = g_string_free (g_steal_pointer (&value), FALSE);

      g_autofree char *name = g_strndup (line, name_len);
      Field *dup = lookup (current, name, NULL);
      if (dup != NULL)
        return mbd_throw (error, MBD_ERROR_DUPLICATE_FIELD,
                          "%s:%u: duplicate field '%s' (first on line %u)", reader.name,
                          reader.lineno, name, dup->line);

      last = g_new0 (Field, 1);
      last->name = g_steal_pointer (&name);
      last->line = reader.lineno;
      last->value = NULL;
      g_ptr_array_add (current->fields, last);
      value = g_string_new (colon + 1);
      /* strip leading whitespace of the first line; trailing is gone already */
      gsize skip = 0;
      while (skip < value->len && (value->str[skip] == ' ' || value->str[skip] == '\t'))
        skip++;
      g_string_erase (value, 0, skip);
    }

  if (state == STATE_ARMOR_HEADERS || state == STATE_SIGNED_BODY)
    return mbd_throw (error, MBD_ERROR_PARSE,
                      "%s: clear-signed message is truncated: no signature block", reader.name);
  if (state == STATE_SIGNATURE)
    return mbd_throw (error, MBD_ERROR_PARSE,
                      "%s: clear-signed message is truncated: the signature block has no end",
                      reader.name);
  if (current != NULL)
    {
      last->value = g_string_free (g_steal_pointer (&value), FALSE);
      g_ptr_array_add (self->paragraphs, g_steal_pointer (&current));
    }
  return TRUE;
}

static MbdControl *
new_from_data (const char *data, gsize length, const char *name, GError **error)
{
  g_autoptr (MbdControl) self = mbd_control_new ();

  self->name = g_strdup (name != NULL ? name : "<control data>");
  if (!parse (self, data, length, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * mbd_control_new_from_string:
 * @text: deb822 text, possibly clear-signed
 * @name: (nullable): how to call the input in error messages, such as its file name
 *
 * Parses control data from a string.
 *
 * Returns: (transfer full): the parsed control data, or %NULL with @error set
 */
MbdControl *
mbd_control_new_from_string (const char *text, const char *name, GError **error)
{
  g_return_val_if_fail (text != NULL, NULL);
  return new_from_data (text, strlen (text), name, error);
}

/**
 * mbd_control_new_from_bytes:
 * @data: deb822 bytes, possibly clear-signed
 * @name: (nullable): how to call the input in error messages, such as its file name
 *
 * Parses control data from bytes; unlike [ctor@Mbd.Control.new_from_string] this sees (and
 * refuses) NUL bytes in the input.
 *
 * Returns: (transfer full): the parsed control data, or %NULL with @error set
 */
MbdControl *
mbd_control_new_from_bytes (GBytes *data, const char *name, GError **error)
{
  gsize length;

  g_return_val_if_fail (data != NULL, NULL);
  const char *bytes = g_bytes_get_data (data, &length);
  return new_from_data (bytes != NULL ? bytes : "", length, name, error);
}

/**
 * mbd_control_new_from_file:
 * @path: a file name
 *
 * Reads and parses a control file; errors name the file.
 *
 * Returns: (transfer full): the parsed control data, or %NULL with @error set
 */
MbdControl *
mbd_control_new_from_file (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize length;

  g_return_val_if_fail (path != NULL, NULL);
  if (!g_file_get_contents (path, &contents, &length, error))
    return NULL;
  return new_from_data (contents, length, path, error);
}

/**
 * mbd_control_get_name:
 * @self: control data
 *
 * Gives the name the input was given for error messages.
 *
 * Returns: (nullable): the name, or %NULL for control data built in memory
 */
const char *
mbd_control_get_name (MbdControl *self)
{
  g_return_val_if_fail (MBD_IS_CONTROL (self), NULL);
  return self->name;
}

/**
 * mbd_control_is_signed:
 * @self: control data
 *
 * Tells whether the input was wrapped in an OpenPGP clear signature. The signature is not checked
 * by the parser.
 *
 * Returns: %TRUE if the input was clear-signed
 */
gboolean
mbd_control_is_signed (MbdControl *self)
{
  g_return_val_if_fail (MBD_IS_CONTROL (self), FALSE);
  return self->is_signed;
}

/**
 * mbd_control_get_n_paragraphs:
 * @self: control data
 *
 * Counts the paragraphs.
 *
 * Returns: the number of paragraphs
 */
guint
mbd_control_get_n_paragraphs (MbdControl *self)
{
  g_return_val_if_fail (MBD_IS_CONTROL (self), 0);
  return self->paragraphs->len;
}

/**
 * mbd_control_get_paragraph:
 * @self: control data
 * @index: a paragraph index, from 0
 *
 * Gives one paragraph.
 *
 * Returns: (transfer none) (nullable): the paragraph, or %NULL if @index is out of range
 */
MbdParagraph *
mbd_control_get_paragraph (MbdControl *self, guint index)
{
  g_return_val_if_fail (MBD_IS_CONTROL (self), NULL);
  if (index >= self->paragraphs->len)
    return NULL;
  return g_ptr_array_index (self->paragraphs, index);
}

/**
 * mbd_control_get_paragraphs:
 * @self: control data
 *
 * Lists the paragraphs in their order.
 *
 * Returns: (transfer container) (element-type Mbd.Paragraph): the paragraphs
 */
GPtrArray *
mbd_control_get_paragraphs (MbdControl *self)
{
  g_return_val_if_fail (MBD_IS_CONTROL (self), NULL);

  GPtrArray *list = g_ptr_array_new_full (self->paragraphs->len, g_object_unref);
  for (guint i = 0; i < self->paragraphs->len; i++)
    g_ptr_array_add (list, g_object_ref (g_ptr_array_index (self->paragraphs, i)));
  return list;
}

/**
 * mbd_control_add_paragraph:
 * @self: control data
 * @paragraph: a paragraph to append
 *
 * Appends a paragraph.
 */
void
mbd_control_add_paragraph (MbdControl *self, MbdParagraph *paragraph)
{
  g_return_if_fail (MBD_IS_CONTROL (self));
  g_return_if_fail (MBD_IS_PARAGRAPH (paragraph));
  g_ptr_array_add (self->paragraphs, g_object_ref (paragraph));
}

/**
 * mbd_control_to_string:
 * @self: control data
 *
 * Writes the paragraphs as deb822 text separated by blank lines, without any signature.
 *
 * Returns: (transfer full): the text
 */
char *
mbd_control_to_string (MbdControl *self)
{
  g_return_val_if_fail (MBD_IS_CONTROL (self), NULL);

  g_autoptr (GString) out = g_string_new (NULL);
  for (guint i = 0; i < self->paragraphs->len; i++)
    {
      if (i > 0)
        g_string_append_c (out, '\n');
      append_paragraph (g_ptr_array_index (self->paragraphs, i), out);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}
