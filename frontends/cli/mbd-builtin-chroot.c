/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "mbd-builtins.h"

/* Keep in step with doc/mbd.1.rst and the bash completion. */
static char *opt_arch;
static char *opt_backend;
static char *opt_mirror;
static char *opt_from;
static int opt_timeout;
static gboolean opt_json;

static const GOptionEntry create_options[] = {
  { "arch", 0, 0, G_OPTION_ARG_STRING, &opt_arch, "Architecture (default: the native one)", "A" },
  { "backend", 0, 0, G_OPTION_ARG_STRING, &opt_backend, "unshare (default) or schroot", "BACKEND" },
  { "mirror", 0, 0, G_OPTION_ARG_STRING, &opt_mirror,
    "Debian mirror URI (default: the one of the machine's apt sources)", "URI" },
  { "from", 0, 0, G_OPTION_ARG_FILENAME, &opt_from,
    "Copy (unshare) or unpack (schroot) this chroot tarball (.tar.zst) instead of running "
    "mmdebstrap",
    "TARBALL" },
  { NULL }
};

static const GOptionEntry check_options[]
    = { { "arch", 0, 0, G_OPTION_ARG_STRING, &opt_arch,
          "Architecture (default: all of the codename)", "A" },
        { "mirror", 0, 0, G_OPTION_ARG_STRING, &opt_mirror, "Debian mirror URI to update from",
          "URI" },
        { "timeout", 0, 0, G_OPTION_ARG_INT, &opt_timeout, "Seconds the whole check may take",
          "SECONDS" },
        { NULL } };

static const GOptionEntry rm_options[] = { { "arch", 0, 0, G_OPTION_ARG_STRING, &opt_arch,
                                             "Architecture (default: the native one)", "A" },
                                           { NULL } };

static const GOptionEntry ls_options[]
    = { { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print the chroots as a JSON array", NULL },
        { NULL } };

/* Options that take a value as the next argument: those values are not positional. */
static const char *const value_options[]
    = { "--arch", "--backend", "--mirror", "--from", "--timeout", "--home", NULL };

/* Moves the positional arguments (after argv[0]) out of @argv into the returned array. */
static GPtrArray *
take_positionals (int *argc, char **argv)
{
  GPtrArray *positionals = g_ptr_array_new ();
  int out = 1;

  for (int i = 1; i < *argc; i++)
    {
      if (argv[i][0] == '-')
        {
          argv[out++] = argv[i];
          if (g_strv_contains (value_options, argv[i]) && i + 1 < *argc)
            argv[out++] = argv[++i];
          continue;
        }
      g_ptr_array_add (positionals, argv[i]);
    }
  argv[out] = NULL;
  *argc = out;
  return positionals;
}

typedef struct
{
  GMainLoop *loop;
  GCancellable *cancellable;
  gboolean tty;
  gboolean ok;
  GError *error;
  gboolean bar_shown;
  gboolean create;
} RunState;

static int
terminal_width (void)
{
  struct winsize ws;

  if (ioctl (STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
    return ws.ws_col;
  return 80;
}

static void
on_progress (MbdChroot *chroot, double fraction, const char *message, gpointer user_data)
{
  RunState *rs = user_data;
  int percent = fraction < 0 ? 0 : (int) (fraction * 100 + 0.5);

  if (!rs->tty)
    {
      fprintf (stderr, "[%3d%%] %s\n", percent, message);
      return;
    }
  /* One redrawn line: "[#####.....]  45% message", cut to the terminal's width. */
  int width = 30;
  int filled = percent * width / 100;
  GString *line = g_string_new ("\r[");
  for (int i = 0; i < width; i++)
    g_string_append_c (line, i < filled ? '#' : '.');
  g_string_append_printf (line, "] %3d%% ", percent);
  int room = terminal_width () - (int) line->len;
  g_autofree char *excerpt = g_utf8_substring (message, 0, MAX (room, 0));
  g_string_append (line, excerpt);
  fprintf (stderr, "%s\033[K", line->str);
  fflush (stderr);
  g_string_free (line, TRUE);
  rs->bar_shown = TRUE;
}

static gboolean
on_signal (gpointer user_data)
{
  RunState *rs = user_data;

  g_cancellable_cancel (rs->cancellable);
  return G_SOURCE_CONTINUE;
}

static void
op_done (GObject *object, GAsyncResult *result, gpointer user_data)
{
  RunState *rs = user_data;
  MbdChroot *chroot = MBD_CHROOT (object);

  if (rs->create)
    rs->ok = mbd_chroot_create_finish (chroot, result, &rs->error);
  else
    rs->ok = mbd_chroot_check_finish (chroot, result, &rs->error);
  g_main_loop_quit (rs->loop);
}

/* Runs a create or check with a progress display; ^C or SIGTERM cancel it (the library stops
 * mmdebstrap or apt with their whole process group). */
gboolean
mbd_cli_chroot_run (MbdChroot *chroot, gboolean create, const char *from, GError **error)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  RunState rs = { loop, cancellable, isatty (STDERR_FILENO), FALSE, NULL, FALSE, create };

  gulong handler = g_signal_connect (chroot, "progress", G_CALLBACK (on_progress), &rs);
  guint sigint = g_unix_signal_add (SIGINT, on_signal, &rs);
  guint sigterm = g_unix_signal_add (SIGTERM, on_signal, &rs);
  if (create)
    mbd_chroot_create_async (chroot, from, cancellable, op_done, &rs);
  else
    mbd_chroot_check_async (chroot, cancellable, op_done, &rs);
  g_main_loop_run (loop);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_signal_handler_disconnect (chroot, handler);
  if (rs.bar_shown)
    fprintf (stderr, "\n");
  if (!rs.ok)
    g_propagate_error (error, rs.error);
  return rs.ok;
}

static gboolean
chroot_create (MbdInstance *instance, GPtrArray *positionals, GError **error)
{
  if (positionals->len != 1)
    return g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                        "mbd chroot create needs exactly one CODENAME"),
           FALSE;
  MbdChrootBackend backend = MBD_CHROOT_BACKEND_UNSHARE;
  if (opt_backend != NULL && !mbd_chroot_backend_from_string (opt_backend, &backend, error))
    return FALSE;
  g_autofree char *arch
      = opt_arch != NULL ? g_strdup (opt_arch) : mbd_get_native_architecture (error);
  if (arch == NULL)
    return FALSE;

  g_autoptr (MbdChroot) chroot = mbd_chroot_new (instance, positionals->pdata[0], arch, backend);
  if (opt_mirror != NULL)
    mbd_chroot_set_mirror (chroot, opt_mirror);
  gint64 start = g_get_monotonic_time ();
  if (!mbd_cli_chroot_run (chroot, TRUE, opt_from, error))
    return FALSE;
  printf ("Created chroot %s/%s (%s) in %.1f s: %s\n", mbd_chroot_get_codename (chroot),
          mbd_chroot_get_architecture (chroot),
          mbd_chroot_backend_to_string (mbd_chroot_get_backend (chroot)),
          (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC,
          mbd_chroot_get_path (chroot));
  return TRUE;
}

static gboolean
chroot_check (MbdInstance *instance, GPtrArray *positionals, GError **error)
{
  if (positionals->len > 1)
    return g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                        "mbd chroot check takes at most one CODENAME"),
           FALSE;
  g_autoptr (GPtrArray) all = mbd_instance_list_chroots (instance, error);
  if (all == NULL)
    return FALSE;

  const char *codename = positionals->len == 1 ? positionals->pdata[0] : NULL;
  guint checked = 0, failed = 0;
  for (guint i = 0; i < all->len; i++)
    {
      MbdChroot *chroot = all->pdata[i];
      if (codename != NULL && g_strcmp0 (codename, mbd_chroot_get_codename (chroot)) != 0)
        continue;
      if (opt_arch != NULL && g_strcmp0 (opt_arch, mbd_chroot_get_architecture (chroot)) != 0)
        continue;
      if (opt_mirror != NULL)
        mbd_chroot_set_mirror (chroot, opt_mirror);
      if (opt_timeout > 0)
        mbd_chroot_set_check_timeout (chroot, opt_timeout);
      checked++;
      g_autoptr (GError) local = NULL;
      gint64 start = g_get_monotonic_time ();
      if (mbd_cli_chroot_run (chroot, FALSE, NULL, &local))
        printf ("Chroot %s/%s is active (checked in %.1f s)\n", mbd_chroot_get_codename (chroot),
                mbd_chroot_get_architecture (chroot),
                (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC);
      else
        {
          failed++;
          fprintf (stderr, "error: %s\n", local->message);
          if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            break;
        }
    }
  if (checked == 0)
    return g_set_error (error, MBD_ERROR, MBD_ERROR_NOT_FOUND, "No chroot %s%s%s to check",
                        codename ? codename : "", opt_arch ? "/" : "", opt_arch ? opt_arch : ""),
           FALSE;
  if (failed > 0)
    return g_set_error (error, MBD_ERROR, MBD_ERROR_FAILED, "%u of %u chroots failed their check",
                        failed, checked),
           FALSE;
  return TRUE;
}

static gboolean
chroot_rm (MbdInstance *instance, GPtrArray *positionals, GError **error)
{
  if (positionals->len != 1)
    return g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                        "mbd chroot rm needs exactly one CODENAME"),
           FALSE;
  g_autofree char *arch
      = opt_arch != NULL ? g_strdup (opt_arch) : mbd_get_native_architecture (error);
  if (arch == NULL)
    return FALSE;
  g_autoptr (MbdChroot) chroot
             = mbd_instance_lookup_chroot (instance, positionals->pdata[0], arch, error);
  if (chroot == NULL || !mbd_chroot_remove (chroot, NULL, error))
    return FALSE;
  printf ("Removed chroot %s/%s\n", mbd_chroot_get_codename (chroot), arch);
  return TRUE;
}

static gboolean
chroot_ls (MbdInstance *instance, GPtrArray *positionals, GError **error)
{
  if (positionals->len != 0)
    return g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                        "mbd chroot ls takes no arguments"),
           FALSE;
  g_autoptr (GPtrArray) all = mbd_instance_list_chroots (instance, error);
  if (all == NULL)
    return FALSE;

  if (opt_json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_array (b);
      for (guint i = 0; i < all->len; i++)
        {
          MbdChroot *c = all->pdata[i];
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "codename");
          json_builder_add_string_value (b, mbd_chroot_get_codename (c));
          json_builder_set_member_name (b, "architecture");
          json_builder_add_string_value (b, mbd_chroot_get_architecture (c));
          json_builder_set_member_name (b, "backend");
          json_builder_add_string_value (b,
                                         mbd_chroot_backend_to_string (mbd_chroot_get_backend (c)));
          json_builder_set_member_name (b, "state");
          json_builder_add_string_value (b, mbd_chroot_state_to_string (mbd_chroot_get_state (c)));
          json_builder_set_member_name (b, "path");
          json_builder_add_string_value (b, mbd_chroot_get_path (c));
          json_builder_set_member_name (b, "mirror");
          json_builder_add_string_value (b, mbd_chroot_get_mirror (c));
          json_builder_set_member_name (b, "message");
          json_builder_add_string_value (b, mbd_chroot_get_message (c));
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      g_autoptr (JsonNode) root = json_builder_get_root (b);
      g_autofree char *text = json_to_string (root, TRUE);
      printf ("%s\n", text);
      return TRUE;
    }

  if (all->len == 0)
    {
      printf ("No chroots; create one with 'mbd chroot create CODENAME'\n");
      return TRUE;
    }
  for (guint i = 0; i < all->len; i++)
    {
      MbdChroot *c = all->pdata[i];
      g_autofree char *name
          = g_strdup_printf ("%s/%s", mbd_chroot_get_codename (c), mbd_chroot_get_architecture (c));
      printf ("%-20s %-8s %-9s %s\n", name,
              mbd_chroot_backend_to_string (mbd_chroot_get_backend (c)),
              mbd_chroot_state_to_string (mbd_chroot_get_state (c)), mbd_chroot_get_path (c));
      if (mbd_chroot_get_message (c) != NULL)
        printf ("%-20s %s\n", "", mbd_chroot_get_message (c));
    }
  return TRUE;
}

typedef struct
{
  const char *name;
  const char *summary;
  const GOptionEntry *options;
  gboolean (*fn) (MbdInstance *instance, GPtrArray *positionals, GError **error);
} ChrootCommand;

static const ChrootCommand chroot_commands[] = {
  { "create", "CODENAME - create a build chroot with mmdebstrap", create_options, chroot_create },
  { "check", "[CODENAME] - update and check chroots (apt-get update, dist-upgrade)", check_options,
    chroot_check },
  { "ls", "- list the chroots", ls_options, chroot_ls },
  { "rm", "CODENAME - remove a chroot and everything it left", rm_options, chroot_rm },
};

BUILTINPROTO (chroot)
{
  const ChrootCommand *command = NULL;

  g_autoptr (GPtrArray) positionals = take_positionals (&argc, argv);
  if (positionals->len > 0)
    for (guint i = 0; i < G_N_ELEMENTS (chroot_commands); i++)
      if (g_str_equal (chroot_commands[i].name, positionals->pdata[0]))
        command = &chroot_commands[i];
  if (command == NULL)
    {
      GString *usage = g_string_new (NULL);
      if (positionals->len > 0)
        g_string_append_printf (usage, "unknown chroot command '%s'; ",
                                (const char *) positionals->pdata[0]);
      g_string_append (usage, "use one of:");
      for (guint i = 0; i < G_N_ELEMENTS (chroot_commands); i++)
        g_string_append_printf (usage, "\n  mbd chroot %s %s", chroot_commands[i].name,
                                chroot_commands[i].summary);
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, usage->str);
      g_string_free (usage, TRUE);
      return FALSE;
    }
  g_ptr_array_remove_index (positionals, 0);

  g_autofree char *summary = g_strdup_printf ("%s %s", command->name, command->summary);
  g_autoptr (GOptionContext) context = g_option_context_new (summary);
  g_autoptr (MbdInstance) instance = NULL;
  if (!mbd_option_context_parse (context, command->options, &argc, &argv, invocation,
                                 MBD_BUILTIN_FLAG_NONE, &instance, cancellable, error))
    return FALSE;
  return command->fn (instance, positionals, error);
}
