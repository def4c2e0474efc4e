module github.com/itfit/itfit

go 1.26
