package ml

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/dockyard/dockyard/internal/search"
)

// spool keeps the rows of one fit or apply in a temporary file, in order,
// each marked with whether it was sent to the notebook, so that results
// can be merged back without holding the rows in memory. Rows are written
// in a compact binary form: per row a sent flag and the field count, per
// field its name, kind and value (numbers as their 64-bit pattern).
type spool struct {
	path string
	f    *os.File
	w    *bufio.Writer
	buf  []byte
}

func newSpool(dir string) (*spool, error) {
	f, err := os.CreateTemp(dir, "dockyard-rows-*.bin")
	if err != nil {
		return nil, fmt.Errorf("spooling rows: %w", err)
	}
	return &spool{path: f.Name(), f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func (s *spool) add(r *search.Row, sent bool) error {
	b := s.buf[:0]
	if sent {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(r.Fields)))
	for _, f := range r.Fields {
		b = appendString(b, f.Name)
		k := f.Value.Kind()
		b = append(b, byte(k))
		switch k {
		case search.Num:
			n, _ := f.Value.Number()
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(n))
		case search.Str:
			b = appendString(b, f.Value.String())
		case search.Multi:
			vs := f.Value.Values()
			b = binary.AppendUvarint(b, uint64(len(vs)))
			for _, v := range vs {
				b = appendString(b, v)
			}
		}
	}
	s.buf = b
	_, err := s.w.Write(b)
	return err
}

// finish flushes the spool for reading.
func (s *spool) finish() error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("spooling rows: %w", err)
	}
	return s.f.Close()
}

// remove deletes the spool file.
func (s *spool) remove() {
	s.f.Close()
	os.Remove(s.path)
}

// spooled is a row read back, and whether it was sent to the notebook.
type spooled struct {
	Row  *search.Row
	Sent bool
}

// spoolReader decodes spooled rows; field names are interned.
type spoolReader struct {
	r     *bufio.Reader
	names map[string]string
	tmp   []byte
}

func (d *spoolReader) bytes() ([]byte, error) {
	n, err := binary.ReadUvarint(d.r)
	if err != nil {
		return nil, err
	}
	if uint64(cap(d.tmp)) < n {
		d.tmp = make([]byte, n)
	}
	d.tmp = d.tmp[:n]
	_, err = io.ReadFull(d.r, d.tmp)
	return d.tmp, err
}

func (d *spoolReader) name() (string, error) {
	b, err := d.bytes()
	if err != nil {
		return "", err
	}
	if s, ok := d.names[string(b)]; ok {
		return s, nil
	}
	s := string(b)
	d.names[s] = s
	return s, nil
}

func (d *spoolReader) str() (string, error) {
	b, err := d.bytes()
	return string(b), err
}

func (d *spoolReader) row() (spooled, error) {
	sent, err := d.r.ReadByte()
	if err != nil {
		return spooled{}, err // io.EOF at the end
	}
	n, err := binary.ReadUvarint(d.r)
	if err != nil {
		return spooled{}, io.ErrUnexpectedEOF
	}
	r := search.NewRow(int(n))
	for range n {
		name, err := d.name()
		if err != nil {
			return spooled{}, io.ErrUnexpectedEOF
		}
		k, err := d.r.ReadByte()
		if err != nil {
			return spooled{}, io.ErrUnexpectedEOF
		}
		v := search.NullValue
		switch search.Kind(k) {
		case search.Num:
			var b [8]byte
			if _, err := io.ReadFull(d.r, b[:]); err != nil {
				return spooled{}, io.ErrUnexpectedEOF
			}
			v = search.NumValue(math.Float64frombits(binary.LittleEndian.Uint64(b[:])))
		case search.Str:
			s, err := d.str()
			if err != nil {
				return spooled{}, io.ErrUnexpectedEOF
			}
			v = search.StrValue(s)
		case search.Multi:
			c, err := binary.ReadUvarint(d.r)
			if err != nil {
				return spooled{}, io.ErrUnexpectedEOF
			}
			vs := make([]string, 0, c)
			for range c {
				s, err := d.str()
				if err != nil {
					return spooled{}, io.ErrUnexpectedEOF
				}
				vs = append(vs, s)
			}
			v = search.MultiValue(vs)
		}
		r.Fields = append(r.Fields, search.Field{Name: name, Value: v})
	}
	return spooled{Row: r, Sent: sent == 1}, nil
}

// rows reads the spooled rows back in order.
func (s *spool) rows(yield func(spooled, error) bool) {
	f, err := os.Open(s.path)
	if err != nil {
		yield(spooled{}, fmt.Errorf("reading spooled rows: %w", err))
		return
	}
	defer f.Close()
	d := &spoolReader{r: bufio.NewReaderSize(f, 64<<10), names: map[string]string{}}
	for {
		sr, err := d.row()
		if err == io.EOF {
			return
		}
		if err != nil {
			yield(spooled{}, fmt.Errorf("reading spooled rows: %w", err))
			return
		}
		if !yield(sr, nil) {
			return
		}
	}
}

// feedStats describe the rows a feed saw.
type feedStats struct {
	Total       int64            // rows received from the search
	Sent        int64            // rows sent to the notebook
	Missing     int64            // rows not sent: a column had no value
	ByField     map[string]int64 // missing values per column
	MissingRows []int64          // the first few rows not sent, 1-based
	Fingerprint string           // sha256: of the CSV sent
}

// maxMissingRows is how many row numbers a missing-value message lists.
const maxMissingRows = 10

// feed writes cols as CSV to w (header first): one record per row whose
// columns all have values. Every row goes to the spool, marked sent or not,
// in order. rows yields the input; it is consumed to its end.
func feed(w io.Writer, rows func(yield func(*search.Row, error) bool), cols []string, sp *spool) (feedStats, error) {
	st := feedStats{ByField: map[string]int64{}}
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(w, h), 64<<10)
	cw := csv.NewWriter(bw)
	if err := cw.Write(cols); err != nil {
		return st, err
	}
	rec := make([]string, len(cols))
	var ferr error
	rows(func(r *search.Row, err error) bool {
		if err != nil {
			ferr = err
			return false
		}
		st.Total++
		ok := true
		for i, c := range cols {
			rec[i] = r.Get(c).String()
			if rec[i] == "" {
				ok = false
				st.ByField[c]++
			}
		}
		if ok {
			st.Sent++
			if ferr = cw.Write(rec); ferr != nil {
				return false
			}
		} else {
			st.Missing++
			if len(st.MissingRows) < maxMissingRows {
				st.MissingRows = append(st.MissingRows, st.Total)
			}
		}
		if ferr = sp.add(r, ok); ferr != nil {
			return false
		}
		return true
	})
	if ferr != nil {
		return st, ferr
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return st, err
	}
	if err := bw.Flush(); err != nil {
		return st, err
	}
	st.Fingerprint = "sha256:" + hex.EncodeToString(h.Sum(nil))
	return st, sp.finish()
}
