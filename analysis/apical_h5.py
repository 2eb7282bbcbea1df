"""Shared reading helpers for apical's HDF5 output (SONATA layout).

Layout (include/apical/h5out.h is authoritative):
  /                  attrs magic, version, complete (1 only once the run finished)
  /spikes/<pop>/     attr n_nodes (optional), timestamps float64 ms, node_ids uint64
  /report/<pop>/     data float32 [n_times, n_nodes*n_vars], mapping/{node_ids,
                     index_pointers, element_ids, time=[start, stop, step]},
                     attrs variables, variable_units
  /provenance/       duration (attribute or dataset, ms), network text, seed, ...

Every tool opens files with open_complete(), which refuses an unfinished file
(attribute `complete` missing or 0) with a clear message; main() wrappers turn
that into exit code 2 (EXIT_REFUSED). With --allow-incomplete a tool reads it
anyway (OUT.h5.part too, opened as an SWMR reader when HDF5 marks it open for
writing), says how far it goes, and uses spikes up to /provenance/t_reached.
"""
import os
import sys

import numpy as np

EXIT_REFUSED = 2


class Refused(Exception):
    """The input file cannot be used (missing, not HDF5, not complete)."""


def _h5py():
    try:
        import h5py
    except ImportError:  # pragma: no cover - environment problem
        raise Refused('h5py is not available in %s; run the analysis tools '
                      'with /usr/bin/python3 (Debian python3-h5py)' % sys.executable)
    return h5py


# Set from --allow-incomplete (add_incomplete_arg / use_args): the tools
# then read an interrupted or killed run's file, up to how far it got.
ALLOW_INCOMPLETE = False


def add_incomplete_arg(ap):
    ap.add_argument('--allow-incomplete', action='store_true',
                    help='read a file whose run did not finish (interrupted, killed, disk '
                         'full; also OUT.h5.part): only the data up to /provenance/t_reached')


def use_args(a):
    global ALLOW_INCOMPLETE
    ALLOW_INCOMPLETE = bool(getattr(a, 'allow_incomplete', False))
    return a


def reached(f):
    """Simulated time (ms) an incomplete file's data cover, or None."""
    v = to_float(prov_value(f, 't_reached'))
    return v


def _is_complete(f):
    c = f.attrs.get('complete')
    try:
        return c is not None and int(np.asarray(c).ravel()[0]) == 1
    except (TypeError, ValueError, IndexError):
        return False


def open_complete(path, allow_incomplete=None):
    """Open an apical output file read-only; refuse it unless complete == 1,
    or, with allow_incomplete (default: --allow-incomplete), say how far it
    goes on stderr and return it (spikes are then cut at t_reached)."""
    h5py = _h5py()
    allow = ALLOW_INCOMPLETE if allow_incomplete is None else allow_incomplete
    if not os.path.exists(path):
        if os.path.exists(path + '.part'):
            if not allow:
                raise Refused('%s: not found; only %s.part exists: the run that writes it has '
                              'not finished, or was interrupted or killed (read it with '
                              '--allow-incomplete)' % (path, path))
            path = path + '.part'
        else:
            raise Refused('%s: no such file' % path)
    try:
        f = h5py.File(path, 'r')
    except OSError:
        # a file being written live, or left by a killed run, is marked open
        # for writing: SWMR readers may still read it
        try:
            f = h5py.File(path, 'r', swmr=True)
        except OSError as e:
            raise Refused('%s: not a readable HDF5 file (%s)' % (path, e))
    if not _is_complete(f):
        c = f.attrs.get('complete')
        t = reached(f)
        if not allow:
            f.close()
            what = 'has no "complete" attribute' if c is None else 'is marked complete=%s' % (
                np.asarray(c).ravel()[0] if np.asarray(c).size else c)
            raise Refused('%s: incomplete file (%s): the run that wrote it did not finish%s; '
                          'refusing to analyse partial data (--allow-incomplete reads it)'
                          % (path, what, '' if t is None else ' (data up to %g ms)' % t))
        d = to_float(prov_value(f, 'duration'))
        why = to_str(prov_value(f, 'stopped')) or 'killed, crashed or still running'
        sys.stderr.write('note: %s is incomplete (%s): data up to %s ms%s\n' % (
            path, why, 'an unknown time' if t is None else '%g' % t,
            '' if d is None else ' of %g ms' % d))
    return f


def run_tool(main):
    """Call main() and map Refused to a message on stderr and exit code 2."""
    try:
        rc = main()
    except Refused as e:
        prog = os.path.basename(sys.argv[0]) or 'apical-analysis'
        sys.stderr.write('%s: error: %s\n' % (prog, e))
        rc = EXIT_REFUSED
    except BrokenPipeError:
        rc = 0
    sys.exit(rc or 0)


def to_str(v):
    """Decode an HDF5 string attribute/dataset value (bytes, str, 0-d array)."""
    if v is None:
        return None
    if isinstance(v, np.ndarray):
        if v.shape == ():
            v = v[()]
        elif v.size == 1:
            v = v.ravel()[0]
        else:
            return ', '.join(to_str(x) for x in v.ravel())
    if isinstance(v, (bytes, np.bytes_)):
        return v.decode('utf-8', 'replace')
    return str(v)


def to_float(v):
    if v is None:
        return None
    try:
        a = np.asarray(v)
        if a.dtype.kind in 'SOU':
            s = to_str(v).strip().split()
            return float(s[0]) if s else None
        return float(a.ravel()[0])
    except (TypeError, ValueError, IndexError):
        return None


def prov_value(f, name):
    """A provenance value by name: attribute of /provenance, else the dataset
    /provenance/<name> (also checked: root attribute). None if absent."""
    p = f.get('provenance')
    if p is not None:
        if name in p.attrs:
            return p.attrs[name]
        obj = p.get(name)
        if obj is not None and hasattr(obj, 'shape'):
            return obj[()]
    if name in f.attrs:
        return f.attrs[name]
    return None


def network_name(f):
    """The network's name from provenance, or None."""
    for key in ('network_name', 'name', 'network'):
        v = to_str(prov_value(f, key))
        if v and '\n' not in v and len(v) < 200:
            return v.strip()
    # the network file text is stored in provenance: parse its `name:` key
    for key in ('network', 'network_text', 'network_yaml', 'network_file', 'yaml'):
        v = to_str(prov_value(f, key))
        if v and '\n' in v:
            for line in v.splitlines():
                if line.startswith('name:'):
                    return line.split(':', 1)[1].split('#', 1)[0].strip().strip('"\'')
    for key in ('network_path', 'network_file', 'source'):
        v = to_str(prov_value(f, key))
        if v and '\n' not in v:
            return os.path.splitext(os.path.basename(v))[0]
    return None


def report_stop(f):
    """Stop time (ms) of the first report that has a mapping/time, or None."""
    r = f.get('report')
    if r is None:
        return None
    for pop in r:
        t = r[pop].get('mapping/time')
        if t is not None and t.shape and t.shape[0] >= 2:
            return float(t[1])
    return None


class SpikePop:
    __slots__ = ('name', 'n', 'times', 'ids', 'n_source')

    def __init__(self, name, n, times, ids, n_source):
        self.name, self.n, self.times, self.ids, self.n_source = name, n, times, ids, n_source


def spike_populations(f):
    """List of SpikePop (name, n neurons, times ms, node ids) in file order."""
    out = []
    s = f.get('spikes')
    if s is None:
        return out
    for name in s:
        g = s[name]
        if 'timestamps' not in g or 'node_ids' not in g:
            continue
        t = np.asarray(g['timestamps'][()], dtype=np.float64)
        ids = np.asarray(g['node_ids'][()], dtype=np.int64)
        if not _is_complete(f) and reached(f) is not None:
            # past t_reached a population's spikes may be partly flushed
            n_ok = min(len(t), len(ids), int(np.searchsorted(t, reached(f), side='right')))
            t, ids = t[:n_ok], ids[:n_ok]
        n, src = None, None
        if 'n_nodes' in g.attrs:
            n, src = int(np.asarray(g.attrs['n_nodes']).ravel()[0]), 'n_nodes'
        if n is None:
            pp = f.get('provenance/populations/%s' % name)
            if pp is not None:
                for k in ('size', 'n', 'n_nodes'):
                    if k in pp.attrs:
                        n, src = int(np.asarray(pp.attrs[k]).ravel()[0]), 'provenance'
                        break
        if n is None:
            n = int(ids.max()) + 1 if ids.size else 0
            src = 'max node id + 1 (no n_nodes attribute)'
        out.append(SpikePop(name, n, t, ids, src))
    return out


def duration(f, pops=None):
    """(duration ms, where it came from); for an incomplete file, how far it
    got."""
    if not _is_complete(f) and reached(f) is not None:
        return reached(f), 'reached (incomplete run)'
    d = to_float(prov_value(f, 'duration'))
    if d is not None and d > 0:
        return d, 'provenance'
    d = report_stop(f)
    if d is not None and d > 0:
        return d, 'report stop time'
    if pops is None:
        pops = spike_populations(f)
    last = max((float(p.times.max()) for p in pops if p.times.size), default=0.0)
    return last, 'last spike'


def report(f, pop):
    """The frame report of population pop as a dict: times (ms, [n_times]),
    node_ids ([n_nodes]), variables, variable_units, and data as float32
    [n_times, n_nodes, n_vars]. None if pop has no report."""
    g = f.get('report/%s' % pop)
    if g is None or 'data' not in g:
        return None
    d = g['data']
    ids = np.asarray(g['mapping/node_ids'][()], dtype=np.int64)
    tm = np.asarray(g['mapping/time'][()], dtype=np.float64)
    variables = [to_str(v) for v in np.atleast_1d(d.attrs.get('variables', []))]
    units = [to_str(v) for v in np.atleast_1d(d.attrs.get('variable_units', []))]
    n_vars = len(variables) or (d.shape[1] // max(len(ids), 1))
    data = d[()].reshape(d.shape[0], len(ids), n_vars)
    times = tm[0] + tm[2] * np.arange(d.shape[0])
    return {'times': times, 'node_ids': ids, 'variables': variables,
            'variable_units': units, 'data': data}
