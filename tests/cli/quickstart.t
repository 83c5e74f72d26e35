The quickstart scenario on the built-in engine, in quick mode (500 test images, short loops).

  $ cd $ROOT
  $ $EDGEBENCH run scenarios/quickstart.lua --quick --out $CRAMTMP/q -q
  $ cut -d, -f3-10 $CRAMTMP/q/results.csv
  variant,kind,base,backend,threads,cores,batch,status
  mlp,original,,ref,1,all,1,ok
  cnn,original,,ref,1,all,1,ok

Model facts come from the file and the inferred shapes: the MLP's MACs are its three
Gemms (784x256 + 256x128 + 128x10), the CNN's its two convs and two Gemms.

  $ cut -d, -f3,25-28 $CRAMTMP/q/results.csv
  variant,model_bytes,params,nonzero_params,macs
  mlp,941340,235146,235146,234752
  cnn,829097,206922,206922,1218048

Every timing and memory column is filled, and accuracy covers the 500 quick images.

  $ awk -F, 'NR > 1 { for (i = 12; i <= 24; i++) if ($i == "") print "empty column", i; print $31 }' $CRAMTMP/q/results.csv
  500
  500
  $ awk -F, 'NR > 1 && ($29 < 0.8 || $29 > 1 || $30 < $29) { print "implausible accuracy", $3, $29, $30 }' $CRAMTMP/q/results.csv

Options the scenario declares can be set from the command line.

  $ $EDGEBENCH run scenarios/quickstart.lua --quick --set limit=100 --out $CRAMTMP/l -q
  $ cut -d, -f31 $CRAMTMP/l/results.csv | tail -1
  100

The batch size binds the model's batch dimension; accuracy is the same at every batch, with
a padded last batch when the batch does not divide the dataset (300 = 42 x 7 + 6).

  $ $EDGEBENCH run tests/cli/scenarios/batch.lua --out $CRAMTMP/b -q
  $ cut -d, -f9,10,29,31 $CRAMTMP/b/results.csv
  batch,status,accuracy_top1,accuracy_samples
  1,ok,0.* (glob)
  4,ok,0.* (glob)
  7,ok,0.* (glob)
  $ cut -d, -f29 $CRAMTMP/b/results.csv | tail -3 | sort -u | wc -l
  1
  $ awk -F, 'NR > 1 { printf "%d %.0f\n", $9, $22 / (1000 / $15) }' $CRAMTMP/b/results.csv
  1 1
  4 4
  7 7
