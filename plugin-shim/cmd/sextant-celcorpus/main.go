// Command sextant-celcorpus checks or regenerates the expected outcomes of Sextant's CEL selector
// corpus with the upstream DRA CEL evaluator (k8s.io/dynamic-resource-allocation/cel v0.37.2).
//
//	sextant-celcorpus [-corpus test/data/cel/corpus.json]          # check; exit 1 on drift
//	sextant-celcorpus -write [-corpus test/data/cel/corpus.json]   # rewrite the outcomes
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"sextant.io/plugin-shim/pkg/celcorpus"
)

func main() {
	path := flag.String("corpus", "../test/data/cel/corpus.json", "the corpus file")
	write := flag.Bool("write", false, "rewrite the file with upstream's outcomes instead of checking them")
	flag.Parse()

	checked, err := celcorpus.Load(*path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	recomputed := celcorpus.Recompute(context.Background(), checked)
	if *write {
		data, err := celcorpus.Marshal(recomputed)
		if err == nil {
			err = os.WriteFile(*path, data, 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println(celcorpus.Summary(recomputed))
		return
	}
	diffs := celcorpus.Diff(checked, recomputed)
	for _, d := range diffs {
		fmt.Println(d)
	}
	fmt.Println(celcorpus.Summary(recomputed))
	if len(diffs) > 0 {
		os.Exit(1)
	}
}
